//! `SIGHUP`: reload agents, queues, menus, prompts, API users, the dispatch catalogue and the
//! calendars without dropping a live call. Every file is read and validated first, exactly as
//! `hotline check` does; any problem refuses the whole reload (each as `file:line: …` in the
//! log) and the configuration in force stays. Otherwise the engine task swaps in the new
//! menus and ACD (see [`crate::call::reload`]), the media tasks the new prompts (a prompt
//! already playing finishes from the old set), and the HTTP side the new users and workflow.
//!
//! Settings of `hotline.toml` itself (addresses, ports, timers, limits) are read at start only,
//! except `[policy]`: the workflow's numbers go with the workflow (deadlines already decided
//! keep their due times).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::acd::config::AcdConfig;
use crate::config::Config;
use crate::cti::auth::Users;
use crate::shell::assets::{self, Assets};
use crate::shell::engine::EngineHandle;
use crate::shell::media::MediaHandle;
use crate::shell::shared::Shared;
use crate::shell::ticket_store::TicketWorker;
use crate::workflow::Workflow;

/// Every reloadable file, loaded and validated together.
pub struct Loaded {
    pub acd: AcdConfig,
    pub assets: Assets,
    pub workflow: Workflow,
    pub users: Users,
}

/// Loads and cross-checks agents, queues, menus, prompts, the calendar, the catalogue and the
/// users of `config`; every problem as `file:line: what is wrong` (for `hotline check`, start
/// and `SIGHUP` alike).
pub fn load_all(config: &Config) -> Result<Loaded, Vec<String>> {
    let lines = |errs: Vec<crate::config::ConfigError>| -> Vec<String> {
        errs.iter().map(|e| e.to_string()).collect()
    };
    let acd = config.load_acd().map_err(lines)?;
    let assets = assets::load_assets(config, &acd.queue_names())?;
    let tickets =
        crate::cti::tickets::TicketApiConfig::new(&config.storage.data_dir, &config.config_dir);
    let workflow = crate::shell::workflow_files::load_workflow(
        &tickets.calendar_dir,
        &tickets.dispatch,
        config.policy.clone(),
    )
    .map_err(|e| vec![e.to_string()])?;
    let users_text = std::fs::read_to_string(&tickets.users)
        .map_err(|e| vec![format!("{}: cannot read: {e}", tickets.users.display())])?;
    let users = Users::from_toml_str(&users_text, &workflow.catalogue)
        .map_err(|e| vec![format!("{}: {e}", tickets.users.display())])?;
    Ok(Loaded {
        acd,
        assets,
        workflow,
        users,
    })
}

/// What `hotline check`, `hotline serve` and a reload all refuse beyond each file's own
/// checks: demo credentials facing a network (agents' SIP passwords off a loopback SIP
/// address, demo HTTP tokens off a loopback HTTP address, unless `[acd]
/// allow_demo_credentials`), and a voice menu from which no key reaches the mandatory
/// enterprise service seat (rule C6).
pub fn service_problems(config: &Config, loaded: &Loaded) -> Vec<String> {
    let mut problems = Vec::new();
    let allow = config.acd.allow_demo_credentials;
    let sip = config.sip.listen;
    if loaded.acd.uses_demo_credentials() && !sip.ip().is_loopback() && !allow {
        problems.push(format!(
            "{}: demo agent passwords (demo-<id>) on a non-loopback SIP address ({sip}); give the agents real credentials, or set [acd] allow_demo_credentials = true",
            config.acd.agents.display()
        ));
    }
    let http = config.http.listen;
    if loaded.users.has_demo_tokens() && !http.ip().is_loopback() && !allow {
        problems.push(format!(
            "{}: demo tokens (demo-…) on a non-loopback HTTP address ({http}); give every user a secret token, or set [acd] allow_demo_credentials = true",
            config.config_dir.join("users.toml").display()
        ));
    }
    let enterprise = loaded.acd.enterprise_queues();
    let by_key = loaded.assets.menus.queues_by_key();
    if enterprise.is_empty() {
        problems.push(format!(
            "{}: no queue for the enterprise service seat (涉企服务专席, mandatory by rule C6): add a queue whose skill is enterprise",
            config.acd.queues.display()
        ));
    } else if !enterprise.iter().any(|q| by_key.contains(q.as_str())) {
        problems.push(format!(
            "{}: no key of the voice menu reaches the enterprise service seat ({}; mandatory by rule C6): bind a key to it, e.g. \"1\" = {{ queue = \"{}\" }}",
            config.ivr.menus_dir.display(),
            enterprise.join(", "),
            enterprise[0]
        ));
    }
    problems
}

/// Warnings about deadlines that cannot be counted exactly: a year they reach (this year,
/// and the next once December is near) with no official calendar file.
pub fn calendar_warnings_for(workflow: &Workflow, today: chrono::NaiveDate) -> Vec<String> {
    use chrono::Datelike;
    let years: Vec<i32> = workflow.calendar.years().collect();
    let mut needed = vec![today.year()];
    // The longest deadline (15 working days, extended twice) reaches about two months ahead.
    if today.month() >= 11 {
        needed.push(today.year() + 1);
    }
    needed
        .into_iter()
        .filter(|y| !years.contains(y))
        .map(|y| format!(
            "no working-day calendar for {y} (config/calendar/{y}.toml): deadlines that reach {y} count weekends only until the State Council's notice is entered"
        ))
        .collect()
}

/// Reloads so far, for `/metrics` (`hotline_config_reloads_total{result}`).
#[derive(Debug, Default)]
pub struct ReloadCounters {
    pub ok: AtomicU64,
    pub refused: AtomicU64,
}

/// What a reload reaches: the files to read again and everything that takes their content.
pub struct Reloader {
    /// `hotline.toml`, as given to `hotline serve`.
    pub config_path: PathBuf,
    /// The command line's values, applied again over the file.
    pub overrides: crate::shell::Overrides,
    /// The digest realm in force: phones' HA1 values depend on it, so it needs a restart.
    pub realm: String,
    pub engine: EngineHandle,
    pub media: MediaHandle,
    pub users: Shared<Users>,
    pub worker: TicketWorker,
    pub counters: Arc<ReloadCounters>,
}

impl Reloader {
    /// Serves reload requests (one per `SIGHUP`) until the sender is gone.
    pub async fn run(self, mut requests: tokio::sync::mpsc::Receiver<()>) {
        while requests.recv().await.is_some() {
            // The outcome is logged and counted inside.
            let _ = self.reload_once().await;
        }
    }

    /// Reads every file again and applies them, or refuses them all; returns the log line.
    pub async fn reload_once(&self) -> Result<String, Vec<String>> {
        let path = self.config_path.clone();
        let overrides = self.overrides.clone();
        let realm = self.realm.clone();
        let loaded = tokio::task::spawn_blocking(move || {
            let mut config = Config::load(&path)
                .map_err(|errs| errs.iter().map(|e| e.to_string()).collect::<Vec<_>>())?;
            overrides.apply(&mut config);
            let loaded = load_all(&config)?;
            check_for_reload(&config, &loaded, &realm)?;
            Ok::<_, Vec<String>>((loaded, config.sip.service_numbers))
        })
        .await
        .unwrap_or_else(|e| Err(vec![format!("reload task failed: {e}")]));
        let (loaded, service_numbers) = match loaded {
            Ok(l) => l,
            Err(problems) => {
                self.counters.refused.fetch_add(1, Ordering::Relaxed);
                for p in &problems {
                    tracing::error!("reload refused: {p}");
                }
                tracing::error!(
                    problems = problems.len(),
                    "reload refused: the configuration in force stays"
                );
                return Err(problems);
            }
        };
        let Loaded {
            acd,
            assets,
            workflow,
            users,
        } = loaded;
        let (agents, queues) = (acd.agents.len(), acd.queues.len());
        let menus = assets.menus.menus().count();
        let prompts = assets.prompts.decoded.len();
        let report = match self
            .engine
            .reload(
                assets.menus.clone(),
                acd,
                workflow.catalogue.unit_numbers(),
                service_numbers,
            )
            .await
        {
            Ok(r) => r,
            Err(e) => {
                self.counters.refused.fetch_add(1, Ordering::Relaxed);
                tracing::error!(error = %e, "reload refused");
                return Err(vec![e.to_string()]);
            }
        };
        self.media.set_prompts(assets.prompts.clone());
        let user_count = users.len();
        let categories = workflow.catalogue.categories().count();
        self.users.store(Arc::new(users));
        self.worker.set_workflow(workflow);
        self.counters.ok.fetch_add(1, Ordering::Relaxed);
        let line = format!(
            "reloaded: {agents} agents, {queues} queues, {menus} menus, {prompts} prompts, {user_count} API users, {categories} categories; {} waiting call(s) moved to general, {} agent(s) leave after their call, {} removed",
            report.moved_to_general,
            report.retired.len(),
            report.removed.len()
        );
        for w in &assets.warnings {
            tracing::warn!("reload: {w}");
        }
        tracing::info!("{line}");
        Ok(line)
    }
}

/// What a reload must refuse beyond what `hotline check` does: what `hotline serve` refuses at
/// start (demo passwords off loopback) and a changed realm (needs a restart).
fn check_for_reload(config: &Config, loaded: &Loaded, realm: &str) -> Result<(), Vec<String>> {
    let agents = config.acd.agents.display();
    let problems = service_problems(config, loaded);
    if !problems.is_empty() {
        return Err(problems);
    }
    let acd = &loaded.acd;
    if acd.realm != realm {
        return Err(vec![format!(
            "{agents}: realm changed from {realm:?} to {:?}; a new realm needs a restart (every phone's password hash depends on it)",
            acd.realm
        )]);
    }
    Ok(())
}
