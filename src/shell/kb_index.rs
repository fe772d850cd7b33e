//! The knowledge search index (`kb::Search`): tantivy over words cut by jieba. The store
//! segments title, question forms and answer (jieba's search mode: long words and the words
//! inside them) into space-separated words, tantivy's whitespace tokenizer indexes them, and
//! a query is cut the same way, stop words dropped, each word widened by its synonym group,
//! the words ORed and ranked by BM25 (title 4×, question forms 3×, answer 1×). Filters
//! (area or 全市, category, unit, public, in force on the day) are unscored clauses.
//!
//! The index lives in memory and is rebuilt from the store's served versions when the engine
//! starts (`shell::kb_store`, SQLite or PostgreSQL; on PostgreSQL caught up with the other
//! engine's changes before each search): it is derived data, so a crash can never leave it
//! out of step with the store. Why tantivy and not SQLite FTS5: docs/KB.md (measured).

use std::ops::Bound;

use chrono::{Datelike, NaiveDate};
use jieba_rs::Jieba;
use tantivy::collector::TopDocs;
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, Value,
    STORED, STRING,
};
use tantivy::tokenizer::{TextAnalyzer, WhitespaceTokenizer};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::kb::search::{is_search_word, snippet};
use crate::kb::{Hit, ItemContent, ItemId, Search, SearchError, SearchQuery, Synonyms};

/// Characters of a snippet.
const SNIPPET_CHARS: usize = 80;
/// The index writer's memory budget.
const WRITER_BYTES: usize = 50_000_000;
/// Items of the whole city (全市) match every area filter.
pub const CITY_WIDE: &str = "全市";

/// Cuts Chinese text into words for the index and for queries.
pub struct Segmenter {
    jieba: Jieba,
    synonyms: Synonyms,
}

impl std::fmt::Debug for Segmenter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segmenter")
            .field("synonyms", &self.synonyms)
            .finish()
    }
}

impl Segmenter {
    /// jieba's dictionary plus every synonym as a word of its own.
    pub fn new(synonyms: Synonyms) -> Self {
        let mut jieba = Jieba::new();
        for w in synonyms.words() {
            if !jieba.has_word(w) {
                jieba.add_word(w, None, None);
            }
        }
        Self { jieba, synonyms }
    }

    /// The text as space-separated words (search mode: long words and the words inside).
    pub fn index_text(&self, text: &str) -> String {
        let lower = text.to_lowercase();
        let mut out = String::with_capacity(lower.len() * 2);
        for t in self.jieba.cut_for_search(&lower, false) {
            let w = t.word.trim();
            if w.chars().any(char::is_alphanumeric) {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(w);
            }
        }
        out
    }

    /// The words a query searches for, synonyms included; single characters only when the
    /// query has nothing longer (they match too much to rank by).
    pub fn query_words(&self, text: &str) -> Vec<String> {
        let lower = text.to_lowercase();
        let cut: Vec<String> = self
            .jieba
            .cut_for_search(&lower, false)
            .into_iter()
            .map(|t| t.word.trim().to_string())
            .filter(|w| is_search_word(w))
            .collect();
        let long = cut.iter().any(|w| w.chars().count() > 1);
        let mut out: Vec<String> = Vec::new();
        for w in cut.iter().filter(|w| !long || w.chars().count() > 1) {
            for s in self.synonyms.expand(w) {
                if !out.contains(&s) {
                    out.push(s);
                }
            }
        }
        out
    }
}

#[derive(Debug, Clone, Copy)]
struct Fields {
    id: Field,
    version: Field,
    title_w: Field,
    questions_w: Field,
    answer_w: Field,
    title: Field,
    questions: Field,
    answer: Field,
    source: Field,
    unit: Field,
    category: Field,
    area: Field,
    public: Field,
    effective: Field,
    expires: Field,
}

fn err(e: impl std::fmt::Display) -> SearchError {
    SearchError(e.to_string())
}

fn day(d: NaiveDate) -> i64 {
    i64::from(d.num_days_from_ce())
}

/// The in-memory tantivy index of the served versions.
pub struct KbIndex {
    writer: IndexWriter,
    reader: IndexReader,
    f: Fields,
    seg: Segmenter,
}

impl std::fmt::Debug for KbIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KbIndex").finish()
    }
}

impl KbIndex {
    /// An empty index.
    pub fn new(synonyms: Synonyms) -> Result<Self, SearchError> {
        let mut s = Schema::builder();
        let words = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer("kb_words")
                .set_index_option(IndexRecordOption::WithFreqs),
        );
        let num = NumericOptions::default().set_indexed().set_fast();
        let f = Fields {
            id: s.add_u64_field("id", num.clone().set_stored()),
            version: s.add_u64_field("version", STORED),
            title_w: s.add_text_field("title_w", words.clone()),
            questions_w: s.add_text_field("questions_w", words.clone()),
            answer_w: s.add_text_field("answer_w", words),
            title: s.add_text_field("title", STORED),
            questions: s.add_text_field("questions", STORED),
            answer: s.add_text_field("answer", STORED),
            source: s.add_text_field("source", STORED),
            unit: s.add_text_field("unit", STRING | STORED),
            category: s.add_text_field("category", STRING | STORED),
            area: s.add_text_field("area", STRING | STORED),
            public: s.add_u64_field("public", num.clone()),
            effective: s.add_i64_field("effective", num.clone()),
            expires: s.add_i64_field("expires", num),
        };
        let index = Index::create_in_ram(s.build());
        index.tokenizers().register(
            "kb_words",
            TextAnalyzer::builder(WhitespaceTokenizer::default()).build(),
        );
        let writer = index
            .writer_with_num_threads(1, WRITER_BYTES)
            .map_err(err)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(err)?;
        Ok(Self {
            writer,
            reader,
            f,
            seg: Segmenter::new(synonyms),
        })
    }

    /// The segmenter (for tests).
    pub fn segmenter(&self) -> &Segmenter {
        &self.seg
    }

    /// Puts (`Some`) or removes (`None`) items, then commits once.
    pub fn apply<'a>(
        &mut self,
        changes: impl IntoIterator<Item = (ItemId, Option<(u32, &'a ItemContent)>)>,
    ) -> Result<(), SearchError> {
        let f = self.f;
        for (id, served) in changes {
            self.writer.delete_term(Term::from_field_u64(f.id, id));
            let Some((v, c)) = served else { continue };
            let questions = c.questions.join("\n");
            let mut d = TantivyDocument::default();
            d.add_u64(f.id, id);
            d.add_u64(f.version, u64::from(v));
            d.add_text(f.title_w, self.seg.index_text(&c.title));
            d.add_text(f.questions_w, self.seg.index_text(&questions));
            d.add_text(f.answer_w, self.seg.index_text(&c.answer));
            d.add_text(f.title, &c.title);
            d.add_text(f.questions, &questions);
            d.add_text(f.answer, &c.answer);
            d.add_text(
                f.source,
                c.source.as_ref().map(|s| s.name.as_str()).unwrap_or(""),
            );
            d.add_text(f.unit, &c.unit.0);
            d.add_text(f.category, &c.category);
            d.add_text(f.area, &c.area);
            d.add_u64(f.public, u64::from(c.public));
            d.add_i64(f.effective, day(c.effective));
            d.add_i64(f.expires, c.expires.map_or(i64::MAX, day));
            self.writer.add_document(d).map_err(err)?;
        }
        self.writer.commit().map_err(err)?;
        self.reader.reload().map_err(err)
    }

    fn query(&self, q: &SearchQuery, words: &[String]) -> BooleanQuery {
        let f = self.f;
        let mut text: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for w in words {
            for (field, boost) in [(f.title_w, 4.0), (f.questions_w, 3.0), (f.answer_w, 1.0)] {
                let tq = TermQuery::new(
                    Term::from_field_text(field, w),
                    IndexRecordOption::WithFreqs,
                );
                text.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(tq), boost)),
                ));
            }
        }
        let filter = |q: Box<dyn Query>| -> (Occur, Box<dyn Query>) {
            (Occur::Must, Box::new(ConstScoreQuery::new(q, 0.0)))
        };
        let term = |field: Field, v: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, v),
                IndexRecordOption::Basic,
            ))
        };
        let mut all: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, Box::new(BooleanQuery::new(text)))];
        if let Some(area) = &q.area {
            all.push(filter(Box::new(BooleanQuery::new(vec![
                (Occur::Should, term(f.area, area)),
                (Occur::Should, term(f.area, CITY_WIDE)),
            ]))));
        }
        if let Some(c) = &q.category {
            all.push(filter(term(f.category, c)));
        }
        if let Some(u) = &q.unit {
            all.push(filter(term(f.unit, u)));
        }
        if q.public_only {
            all.push(filter(Box::new(TermQuery::new(
                Term::from_field_u64(f.public, 1),
                IndexRecordOption::Basic,
            ))));
        }
        if !q.include_not_in_force {
            let today = day(q.today);
            all.push(filter(Box::new(RangeQuery::new(
                Bound::Unbounded,
                Bound::Included(Term::from_field_i64(f.effective, today)),
            ))));
            all.push(filter(Box::new(RangeQuery::new(
                Bound::Excluded(Term::from_field_i64(f.expires, today)),
                Bound::Unbounded,
            ))));
        }
        BooleanQuery::new(all)
    }
}

impl Search for KbIndex {
    fn put(&mut self, id: ItemId, version: u32, content: &ItemContent) -> Result<(), SearchError> {
        self.apply([(id, Some((version, content)))])
    }

    fn remove(&mut self, id: ItemId) -> Result<(), SearchError> {
        self.apply([(id, None)])
    }

    fn search(&self, q: &SearchQuery) -> Result<Vec<Hit>, SearchError> {
        let words = self.seg.query_words(&q.text);
        if words.is_empty() || q.limit == 0 {
            return Ok(Vec::new());
        }
        let searcher = self.reader.searcher();
        let top = searcher
            .search(&self.query(q, &words), &TopDocs::with_limit(q.limit))
            .map_err(err)?;
        let f = self.f;
        let mut hits = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let d: TantivyDocument = searcher.doc(addr).map_err(err)?;
            let s = |field: Field| {
                d.get_first(field)
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string()
            };
            let n = |field: Field| d.get_first(field).and_then(|v| v.as_u64()).unwrap_or(0);
            let answer = s(f.answer);
            let questions = s(f.questions);
            let text = if words.iter().any(|w| answer.contains(w.as_str())) {
                answer.as_str()
            } else {
                questions
                    .lines()
                    .find(|l| words.iter().any(|w| l.contains(w.as_str())))
                    .unwrap_or(answer.as_str())
            };
            hits.push(Hit {
                id: n(f.id),
                version: n(f.version) as u32,
                title: s(f.title),
                snippet: snippet(text, &words, SNIPPET_CHARS),
                score: f64::from(score),
                unit: s(f.unit),
                category: s(f.category),
                area: s(f.area),
                source: s(f.source),
            });
        }
        Ok(hits)
    }
}
