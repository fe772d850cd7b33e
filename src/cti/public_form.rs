//! The form posts of the citizen's page (no JavaScript needed): urlencoded or multipart
//! fields, kept to show them again on a refusal, and the files of a multipart post, each
//! bounded and judged by its bytes as it is read.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;

use std::collections::HashMap;

use super::public::{MAX_FILE_BYTES, MAX_FORM_BYTES, MAX_PARTS};
use super::web::request_pages::PageMode;
use crate::portal::sniff::{sniff, FileType};
use crate::portal::submit::RawSubmission;
use crate::portal::{Lang, Refused};

/// What a form post carries (text fields kept to show them again on a refusal).
#[derive(Debug, Default, Clone)]
pub(crate) struct FormFields {
    pub fields: Vec<(String, String)>,
    pub elderly: bool,
}

impl FormFields {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn raw(&self) -> RawSubmission {
        let s = |k: &str| self.get(k).map(str::to_string);
        RawSubmission {
            content: s("content"),
            request_type: s("type"),
            area: s("area"),
            location: s("location"),
            area_code: s("area_code"),
            name: s("name"),
            phone: s("phone"),
            callback_consent: Some(self.get("callback_consent") == Some("on")),
        }
    }

    /// The fields by name, to show them again.
    pub(crate) fn map(&self) -> HashMap<&str, &str> {
        self.fields
            .iter()
            .rev()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    pub(crate) fn challenge(&self) -> Option<(String, String)> {
        Some((
            self.get("challenge_id")?.to_string(),
            self.get("challenge_answer")?.to_string(),
        ))
    }
}

/// A file of a multipart form, already read.
pub(crate) struct FormFile {
    pub(crate) name: String,
    pub(crate) bytes: Bytes,
    pub(crate) kind: FileType,
}

pub(crate) fn form_fields(fields: Vec<(String, String)>) -> FormFields {
    let elderly = fields.iter().any(|(k, v)| k == "elderly" && v == "1");
    FormFields { fields, elderly }
}

/// The page a form post is answered with: the language the form was shown in (its `lang`
/// field), else `hint` (the address's `?lang=`, then `Accept-Language`); its elderly mode.
pub(crate) fn form_mode(form: &FormFields, hint: Lang) -> PageMode {
    let lang = match form.get("lang") {
        Some(l) if !l.trim().is_empty() => Lang::choose(Some(l), None),
        _ => hint,
    };
    PageMode {
        lang,
        elderly: form.elderly,
    }
}

/// Reads a multipart form: text fields (bounded) and up to five files, each checked by its
/// bytes as it is read.
pub(crate) async fn read_multipart(
    req: Request,
) -> Result<(FormFields, Vec<FormFile>), (FormFields, Refused)> {
    let mut form = FormFields::default();
    let mut files = Vec::new();
    let mut mp = match axum::extract::Multipart::from_request(req, &()).await {
        Ok(m) => m,
        Err(_) => return Err((form, Refused::UnsupportedMediaType)),
    };
    let mut text_bytes = 0usize;
    // Each part is bounded, and so is their number: the whole form is too.
    let mut parts = 0usize;
    loop {
        parts += 1;
        if parts > MAX_PARTS {
            return Err((form, Refused::BodyTooLarge));
        }
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                let r = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    Refused::BodyTooLarge
                } else {
                    Refused::UnsupportedMediaType
                };
                return Err((form, r));
            }
        };
        let name = field.name().unwrap_or("").to_string();
        if name == "files" {
            let file_name = field.file_name().unwrap_or("").to_string();
            let bytes = match read_field(field, MAX_FILE_BYTES).await {
                Ok(b) => b,
                Err(r) => return Err((form, r)),
            };
            if bytes.is_empty() && file_name.is_empty() {
                continue; // the browser's empty file input
            }
            if files.len() >= crate::workflow::citizen::MAX_CITIZEN_FILES {
                return Err((form, Refused::TooManyFiles));
            }
            let Some(kind) = sniff(&bytes) else {
                return Err((form, Refused::UnsupportedFileType));
            };
            files.push(FormFile {
                name: file_name,
                bytes,
                kind,
            });
        } else {
            let bytes = match read_field(field, MAX_FORM_BYTES).await {
                Ok(b) => b,
                Err(r) => return Err((form, r)),
            };
            text_bytes += bytes.len();
            if text_bytes > MAX_FORM_BYTES {
                return Err((form, Refused::BodyTooLarge));
            }
            let value = String::from_utf8_lossy(&bytes).into_owned();
            if name == "elderly" && value == "1" {
                form.elderly = true;
            }
            form.fields.push((name, value));
        }
    }
    Ok((form, files))
}

async fn read_field(
    mut field: axum::extract::multipart::Field<'_>,
    limit: usize,
) -> Result<Bytes, Refused> {
    let mut out = Vec::new();
    loop {
        match field.chunk().await {
            Ok(Some(c)) => {
                if out.len() + c.len() > limit {
                    return Err(if limit == MAX_FILE_BYTES {
                        Refused::FileTooLarge
                    } else {
                        Refused::BodyTooLarge
                    });
                }
                out.extend_from_slice(&c);
            }
            Ok(None) => return Ok(Bytes::from(out)),
            Err(_) => return Err(Refused::BodyTooLarge),
        }
    }
}
