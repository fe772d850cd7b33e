//! The tokio shell: every socket, timer, file, SQLite handle and task; start-up and graceful
//! shutdown. It makes no protocol or business decision: it feeds the cores and carries out
//! what they return.

pub mod agent_activity;
pub mod area_file;
pub mod assets;
pub mod attachments;
pub mod bridge;
pub mod call_tickets;
pub mod callbacks;
pub mod clock;
pub mod conn_limit;
pub mod engine;
pub mod engine_handle;
pub mod export_audit;
pub mod http_serve;
pub mod journal;
pub mod kb_index;
pub mod kb_rows;
pub mod kb_service;
pub mod kb_store;
pub mod leadership;
pub mod linkage_store;
pub mod media;
pub mod media_ports;
pub mod metrics;
pub mod monitor_audit;
pub mod period_tickets;
pub mod portal_key;
pub mod private_fs;
pub mod read_audit;
pub mod record_files;
pub mod recording;
pub mod records;
pub mod reload;
pub mod shared;
pub mod sip_transport;
pub mod sip_ws;
pub mod state_file;
pub mod store;
pub mod ticket_store;
pub mod ticket_worker;
pub mod tls;
pub mod warnings;
pub mod web_items;
pub mod workflow_files;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::config::Config;

/// Command-line values that win over the config file, so tests can run engines on port 0.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub sip_listen: Option<SocketAddr>,
    pub http_listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
}

impl Overrides {
    /// Applies the flags over the file's values.
    pub fn apply(self, config: &mut Config) {
        if let Some(a) = self.sip_listen {
            config.sip.listen = a;
        }
        if let Some(a) = self.http_listen {
            config.http.listen = a;
        }
        if let Some(d) = self.data_dir {
            config.storage.data_dir = d;
        }
    }
}

/// Every problem, one per line, as one error for `main` to print.
fn one_error<E: std::fmt::Display>(errs: &[E]) -> anyhow::Error {
    anyhow::anyhow!(errs
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("\n"))
}

/// Every problem as a line (for `hotline check`).
fn lines<E: std::fmt::Display>(errs: Vec<E>) -> Vec<String> {
    errs.iter().map(|e| e.to_string()).collect()
}

/// `hotline check`: every problem as `file:line: what is wrong`, or a one-line summary.
pub fn check(path: &Path) -> Result<String, Vec<String>> {
    let config = Config::load(path).map_err(lines)?;
    let loaded = reload::load_all(&config)?;
    // What `serve` would refuse, `check` refuses too.
    let problems = reload::service_problems(&config, &loaded);
    if !problems.is_empty() {
        return Err(problems);
    }
    if let (Some(cert), Some(key)) = (&config.http.tls_cert, &config.http.tls_key) {
        tls::load(cert, key).map_err(|e| vec![e.to_string()])?;
    }
    let reload::Loaded {
        acd,
        assets,
        users,
        workflow,
    } = loaded;
    let mut summary = String::new();
    if acd.uses_demo_credentials() || users.has_demo_tokens() {
        summary.push_str(
            "warning: demo agent passwords or demo tokens are configured (fine on loopback only)\n",
        );
    }
    for w in &assets.warnings {
        summary.push_str(&format!("warning: {w}\n"));
    }
    for w in reload::calendar_warnings_for(
        &workflow,
        clock::wall_now()
            .with_timezone(&crate::workflow::model::china())
            .date_naive(),
    ) {
        summary.push_str(&format!("warning: {w}\n"));
    }
    summary.push_str(&format!(
        "ok: {} agents, {} queues, {} API users, {} menu file(s), {} menus, {} prompts; worst case from answer to a person: {:.1} s",
        acd.agents.len(),
        acd.queues.len(),
        users.len(),
        assets.menu_files,
        assets.menus.menus().count(),
        assets.prompts.decoded.len(),
        assets.menus.worst_case_to_person().as_secs_f64()
    ));
    summary.push('\n');
    let cat = &workflow.catalogue;
    if !cat.areas().is_empty() {
        // `load_workflow` refused a category that resolves to no unit in some area.
        summary.push_str(&format!(
            "dispatch by area: {} areas, {} categories resolve to a unit in every area\n",
            cat.areas().iter().count(),
            cat.categories().count()
        ));
    }
    for robot in assets.robots.values() {
        summary.push_str(&format!("{robot}\n"));
    }
    // Where each answered number's calls go (integrated numbers, `[numbers.<digits>]`).
    for number in &config.sip.service_numbers {
        summary.push_str(&assets.menus.describe_number(number));
        summary.push('\n');
    }
    // The user and realm only: the secret was read, never shown.
    if let Some(creds) = config.trunk.credentials() {
        summary.push_str(&format!(
            "trunk: digest credentials for user {:?}, realm {}\n",
            creds.username,
            creds
                .realm
                .as_deref()
                .map_or("any".into(), |r| format!("{r:?}"))
        ));
        if config.trunk.password_file_world_readable() {
            summary.push_str(
                "warning: trunk.password_file can be read by every user of this machine: chmod 600 it\n",
            );
        }
    }
    summary.push_str(&workflow.policy.summary());
    Ok(summary)
}

/// The sockets the engine serves on, bound before it starts (tests bind port 0).
pub struct Listeners {
    pub sip_udp: tokio::net::UdpSocket,
    pub sip_tcp: tokio::net::TcpListener,
    pub http: tokio::net::TcpListener,
}

impl Listeners {
    /// Binds SIP UDP and TCP on the same address (port 0: a free port both can use) and HTTP.
    pub async fn bind(config: &Config) -> anyhow::Result<Listeners> {
        use anyhow::Context;
        let want = config.sip.listen;
        let mut last_err = None;
        for _ in 0..20 {
            let udp = tokio::net::UdpSocket::bind(want)
                .await
                .with_context(|| format!("cannot bind SIP UDP on {want}"))?;
            let addr = udp.local_addr()?;
            match conn_limit::listen_tcp(addr) {
                Ok(tcp) => {
                    let http = conn_limit::listen_tcp(config.http.listen)
                        .with_context(|| format!("cannot bind HTTP on {}", config.http.listen))?;
                    return Ok(Listeners {
                        sip_udp: udp,
                        sip_tcp: tcp,
                        http,
                    });
                }
                // With port 0 the UDP port may be taken for TCP: try another.
                Err(e) if want.port() == 0 => last_err = Some(e),
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot bind SIP TCP on {addr}"));
                }
            }
        }
        Err(anyhow::anyhow!(
            "no port free for both SIP UDP and TCP: {last_err:?}"
        ))
    }
}

/// `hotline serve`: loads the config, applies the flags and runs until SIGINT/SIGTERM.
pub async fn serve_from_file(path: &Path, overrides: Overrides) -> anyhow::Result<()> {
    let mut config = Config::load(path).map_err(|errs| one_error(&errs))?;
    overrides.clone().apply(&mut config);
    // Everything `hotline check` checks, and what it refuses, before anything is bound: demo
    // credentials must never face a real network, and the enterprise seat must be reachable.
    let loaded = reload::load_all(&config).map_err(|errs| anyhow::anyhow!(errs.join("\n")))?;
    let problems = reload::service_problems(&config, &loaded);
    if !problems.is_empty() {
        anyhow::bail!(problems.join("\n"));
    }
    let today = clock::wall_now()
        .with_timezone(&crate::workflow::model::china())
        .date_naive();
    for w in reload::calendar_warnings_for(&loaded.workflow, today) {
        tracing::warn!("{w}");
    }
    let reload::Loaded { acd, assets, .. } = loaded;
    let listeners = Listeners::bind(&config).await?;
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        let _ = tx.send(true);
    });
    // SIGHUP's default action ends the process: take it over before anyone can send it.
    let (reload_tx, reload_rx) = tokio::sync::mpsc::channel(1);
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .map_err(|e| anyhow::anyhow!("cannot handle SIGHUP: {e}"))?;
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading the configuration");
            // One reload waiting is enough: it reads the files as they are when it runs.
            let _ = reload_tx.try_send(());
        }
    });
    let reload = ReloadSource {
        config_path: path.to_path_buf(),
        overrides,
        requests: reload_rx,
    };
    run(config, acd, assets, listeners, rx, Some(reload)).await
}

/// Where `SIGHUP` reloads come from and what they read again.
pub struct ReloadSource {
    pub config_path: PathBuf,
    pub overrides: Overrides,
    pub requests: tokio::sync::mpsc::Receiver<()>,
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
    tracing::info!("signal received");
}

/// Runs a whole engine on the given listeners until `shutdown` turns true: then it stops
/// taking calls (503), ends live ones with BYE, flushes the call records and returns.
pub async fn run(
    config: Config,
    acd_config: crate::acd::config::AcdConfig,
    assets: assets::Assets,
    listeners: Listeners,
    shutdown: tokio::sync::watch::Receiver<bool>,
    reload: Option<ReloadSource>,
) -> anyhow::Result<()> {
    use anyhow::Context;
    let sip_addr = listeners.sip_udp.local_addr()?;
    let http_addr = listeners.http.local_addr()?;
    private_fs::secure_data_dir(&config.storage.data_dir).with_context(|| {
        format!(
            "cannot create the data folder {}",
            config.storage.data_dir.display()
        )
    })?;
    let mut records = records::CallRecordLog::open(&config.storage.data_dir)
        .context("cannot open the call records")?;
    // A crash left live calls behind: repair their recordings, hash them and give each
    // journalled call its record (`interrupted`) before the KPIs are rebuilt and any call is
    // taken (issue 12 item 7).
    let interrupted = journal::recover_interrupted(&config.storage.data_dir, &mut records).await;
    let recent = records.recent();
    let mut kpis = crate::stats::kpi::Kpis::new(config.kpi.grace, config.kpi.alarm_min_calls);
    match records::kpi_outcomes(&config.storage.data_dir) {
        Ok(outcomes) => {
            for e in outcomes {
                kpis.record_event(&e);
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not rebuild the KPIs from the call records"),
    }

    match conn_limit::raise_nofile_limit() {
        Ok(n) => tracing::info!(open_files = n, "open-file limit"),
        Err(e) => tracing::warn!(error = %e, "cannot raise the open-file limit"),
    }
    // A certificate that cannot be used stops the start with the file named, before any
    // listener serves.
    let tls_config = match (&config.http.tls_cert, &config.http.tls_key) {
        (Some(cert), Some(key)) => Some(tls::load(cert, key)?),
        _ => None,
    };
    let tls_on = tls_config.is_some();
    let net = conn_limit::NetLimits::from_config(&config);
    let (sip_tx, sip_rx) = tokio::sync::mpsc::channel(4096);
    let ws_to_engine = sip_tx.clone();
    let outbound = sip_transport::start(
        listeners.sip_udp,
        listeners.sip_tcp,
        sip_transport::TcpSettings {
            max_message: config.sip.max_message_bytes,
            limits: net.sip.clone(),
            exempt: config.sip.trunks.clone(),
            header_timeout: config.sip.tcp_header_timeout,
            idle_timeout: config.sip.tcp_idle_timeout,
        },
        sip_tx,
    );
    let ws_conns = outbound.connections();
    let (media_tx, media_rx) = tokio::sync::mpsc::unbounded_channel();
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4);
    let media = media::MediaHandle::start(
        workers,
        config.rtp.address,
        config.storage.data_dir.clone(),
        assets.prompts.clone(),
        media_tx,
        media::MediaSettings {
            relatch_after: config.rtp.relatch_after,
            media_timeout: Some(config.rtp.media_timeout).filter(|d| !d.is_zero()),
            conference_queue: config.rtp.conference_queue,
            conference_prime: config.rtp.conference_prime,
            webrtc_connect_timeout: config.rtp.webrtc_connect_timeout,
        },
    )
    .context("cannot start the media threads")?;
    let media_counters = media.counters.clone();
    let media_handle = media.clone();

    let credentials = AgentCredentials(acd_config.clone());
    let engine_cfg = crate::call::engine::EngineConfig {
        service_numbers: config.sip.service_numbers.clone(),
        sip_addr,
        timers: crate::sip::transaction::TimerConfig {
            t1: config.sip.t1,
            t2: config.sip.t2,
            t4: config.sip.t4,
        },
        user_agent: config.sip.user_agent.clone(),
        rtp_address: config.rtp.address,
        opus_complexity: config.rtp.opus_complexity,
        rtp_port_min: config.rtp.port_min,
        rtp_port_max: config.rtp.port_max,
        rtp_agent_reserve: config.rtp.agent_reserve,
        max_in_ivr: config.ivr.max_in_ivr,
        max_in_queue: config.ivr.max_in_queue,
        session_expires: config.sip.session_expires,
        min_se: config.sip.min_se,
        answer_delay: config.sip.answer_delay,
        queue_notice_interval: config.ivr.queue_notice_interval,
        queues: acd_config.queue_names(),
        transfer_gateway: config.transfer.gateway,
        transfer_numbers: config.transfer.numbers.clone(),
        unit_numbers: unit_numbers(&config.config_dir)?,
        trunks: config.sip.trunks.clone(),
        max_setup_per_source: config.sip.max_setup_per_source,
        trunk: config.trunk.address,
        trunk_caller_id: config
            .trunk
            .caller_id
            .clone()
            .or_else(|| config.sip.service_numbers.first().cloned())
            .unwrap_or_else(|| "12345".into()),
        outbound_ring_timeout: config.outbound.ring_timeout,
        call_me_back: crate::call::call_me_back::CallMeBackConfig {
            enabled: config.callback_offer.enabled,
            offer_above: config.callback_offer.offer_above,
            surge_offer_above: config.callback_offer.surge_offer_above,
            assumed_handle_time: config.callback_offer.assumed_handle_time,
            surge_above: config.callback_offer.surge_above,
            max_attempts: config.outbound.max_attempts,
            retry_gap: config.callback_offer.retry_gap,
            rules: config.outbound.clone(),
        },
        trunk_credentials: config.trunk.credentials(),
    };
    let registrar = crate::sip::registrar::Registrar::new(
        crate::sip::registrar::RegistrarConfig {
            realm: acd_config.realm.clone(),
            // The registrar matches lower-case patterns against the lower-cased User-Agent.
            md5_only_agents: config
                .registrar
                .md5_only_agents
                .iter()
                .map(|p| p.to_ascii_lowercase())
                .collect(),
            block: crate::sip::registrar::BlockPolicy {
                exempt: config.sip.trunks.clone(),
                ..Default::default()
            },
            ..Default::default()
        },
        Box::new(credentials),
        rand::random(),
        clock::now(),
    )
    .context("registrar configuration")?;
    let mut core = crate::call::engine::CallEngine::new(
        engine_cfg,
        assets.menus.clone(),
        registrar,
        &acd_config,
        clock::now(),
        clock::wall_now(),
        rand::random(),
    );
    for _ in &interrupted {
        core.counters
            .call_ended(crate::call::record::CallOutcome::Interrupted);
    }
    let state_file = state_file::StateFile::in_dir(&config.storage.data_dir);
    // Clustered, the engine starts as the standby; its state comes from PostgreSQL if it
    // becomes active (shell::leadership), never from this machine's file.
    let (cluster, cluster_status) = leadership::start(
        &config.cluster,
        config.storage.url.as_deref(),
        &mut core,
        shutdown.clone(),
    )
    .context("[cluster]")?;
    match state_file.read().map(|s| s.filter(|_| cluster.is_none())) {
        Ok(Some(saved)) => {
            let done = core.restore(&saved, clock::now());
            // What restore put out (CANCELs, INVITEs) has nowhere to go yet: nothing is live.
            while core.poll_output().is_some() {}
            tracing::info!(
                "restored {} registration(s) ({} lapsed or unknown dropped), {} agent state(s) and {} kept callback(s) saved at {}",
                done.registrations,
                done.dropped_registrations,
                done.agents,
                done.callbacks,
                saved.saved_at
            );
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "saved registrations and agent states ignored"),
    }
    let tickets = crate::cti::tickets::TicketApi::open(&crate::cti::tickets::TicketApiConfig {
        policy: config.policy.clone(),
        caller_reads_per_minute: config.privacy.caller_reads_per_minute,
        postgres: config.storage.url.clone(),
        ..crate::cti::tickets::TicketApiConfig::new(&config.storage.data_dir, &config.config_dir)
    })
    .context("ticket store")?;
    let (web_tx, web_rx) = web_items::channel();
    let tickets = tickets.with_web_items(web_tx);
    let kb = kb_service::KbService::open(
        &config.storage.data_dir,
        &config.kb,
        tickets.worker().clone(),
    )
    .context("knowledge store")?;
    if let Some(demo) = &config.kb.demo_set {
        let path = config.config_dir.join(demo);
        match kb.load_demo_if_empty(&path, tickets.now()) {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(items = n, file = %path.display(), "knowledge base: demo set loaded")
            }
            Err(e) => {
                tracing::warn!(error = %e, file = %path.display(), "knowledge base: demo set not loaded")
            }
        }
    }
    let tickets = tickets.with_kb(kb.clone());
    let duty = leadership::Duty::new(cluster_status.clone());
    let kb_sweeper = {
        let (t, duty) = (tickets.clone(), duty.clone());
        kb_service::spawn_sweeper(
            kb.clone(),
            config.kb.sweep_interval,
            move || t.now(),
            move || duty.on(),
        )
    };
    let kb_api = crate::cti::kb::KbApi::new(
        kb.clone(),
        tickets.clone(),
        &config.kb,
        config.public.enabled,
    );
    let mut call_tickets = call_tickets::CallTickets::new(tickets.clone());
    for i in interrupted {
        // The draft may not have committed before the crash: open it (or find it), then
        // attach the repaired recording, as a normal end does.
        if let (Some(number), None) = (i.caller_number, &i.record.call.ticket) {
            call_tickets.call_answered(crate::call::record::ConnectedCall {
                live: i.record.call.clone(),
                caller_number: number,
            });
        }
        if let (Some(path), Some(sha256)) = (i.record.call.recording, i.record.recording_sha256) {
            let recording = crate::workflow::model::Recording { path, sha256 };
            call_tickets.call_recorded(i.record.call.id, recording);
        }
    }
    // Without a journal the engine still serves (a crash would then lose live calls' records).
    let journal = journal::CallJournal::open(&config.storage.data_dir)
        .inspect_err(|e| tracing::error!(error = %e, "cannot open the call journal: live calls are not journalled"))
        .ok();
    // With a shared store the journal and the records are also rows there (the engine
    // taking over after a failover closes the dead engine's calls from them).
    let shared_calls = match config.storage.url.as_deref() {
        Some(url) => Some(
            crate::shell::store::pg_calls::SharedCalls::spawn(
                url,
                &config.cluster.node,
                config.cluster.store_timeout,
            )
            .context("storage.url")?,
        ),
        None => None,
    };
    let shared_calls_stats = shared_calls.as_ref().map(|(s, _)| s.stats());
    let (cmd_tx, cmd_rx) = tokio::sync::mpsc::channel(64);
    let task = engine::EngineTask {
        core,
        sip_rx,
        media_rx,
        cmd_rx,
        outbound,
        media,
        records,
        grace: std::time::Duration::from_secs(5),
        kpis,
        tickets: Some(call_tickets),
        state_file: cluster_status.is_none().then_some(state_file),
        journal,
        storage: tickets.worker().metrics().storage.clone(),
        callbacks: crate::shell::callbacks::Callbacks::new(
            config.callback.clone(),
            config.outbound.clone(),
            assets
                .robots
                .get(&config.callback.robot)
                .map(|r| std::sync::Arc::new(r.clone())),
            tickets.clone(),
            crate::shell::clock::now(),
        )
        .filter(|_| config.trunk.address.is_some()),
        cluster,
        shared_calls,
    };
    let engine = tokio::spawn(task.run(shutdown.clone()));

    let sweeper = {
        let duty = duty.clone();
        crate::cti::tickets::spawn_sweeper(
            tickets.clone(),
            std::time::Duration::from_secs(60),
            move || duty.on(),
        )
    };
    let engine_handle = engine::EngineHandle::new(cmd_tx);
    // From here on the ticket routes can tell the engine what became of a web item.
    let tickets = tickets.with_engine(engine_handle.clone());
    let web_items = web_items::spawn(web_rx, tickets.clone(), engine_handle.clone(), duty.clone());
    let live = crate::cti::live::feed();
    let (internet_tx, internet) =
        tokio::sync::watch::channel(crate::workflow::store::InternetFigures::default());
    let internet_watch = crate::cti::internet_watch::spawn_internet_watch(
        tickets.clone(),
        crate::cti::internet_watch::INTERNET_WATCH_EVERY,
        internet_tx,
    );
    let (linkage_tx, linkage) = tokio::sync::watch::channel(std::sync::Arc::new(Vec::new()));
    let linkage_watch = crate::cti::internet_watch::spawn_linkage_watch(
        tickets.clone(),
        crate::cti::internet_watch::INTERNET_WATCH_EVERY,
        linkage_tx,
    );
    let reload_counters = std::sync::Arc::new(reload::ReloadCounters::default());
    let reloader = reload.map(|source| {
        let reloader = reload::Reloader {
            config_path: source.config_path,
            overrides: source.overrides,
            realm: acd_config.realm.clone(),
            engine: engine_handle.clone(),
            media: media_handle.clone(),
            users: tickets.users(),
            worker: tickets.worker().clone(),
            counters: reload_counters.clone(),
        };
        tokio::spawn(reloader.run(source.requests))
    });
    // Outside numbers and units only when there is a gateway to dial them through.
    let gateway = config.transfer.gateway.is_some();
    let call_in = std::sync::Arc::new(crate::cti::live::CallIn {
        numbers: if gateway {
            config.transfer.numbers.keys().cloned().collect()
        } else {
            Vec::new()
        },
        units: {
            // The catalogue a reload replaces is the one the engine's unit phones come from.
            let worker = tickets.worker().clone();
            std::sync::Arc::new(move || {
                crate::cti::call_view::call_in_units(&worker.workflow().catalogue, gateway)
            })
        },
    });
    let warnings_hub = std::sync::Arc::new(warnings::WarningsHub::default());
    let warnings_task = warnings::spawn(
        tickets.clone(),
        config.warnings.clone(),
        warnings_hub.clone(),
        duty.clone(),
    );
    let publisher = crate::cti::live::spawn_publisher(
        engine_handle.clone(),
        live.clone(),
        internet.clone(),
        linkage.clone(),
        call_in.clone(),
        tickets.worker().metrics().storage.clone(),
        warnings_hub.clone(),
    );
    let public = crate::cti::public::PublicApi::new(
        tickets.clone(),
        portal_key::load_or_create(&config.storage.data_dir).context("query-code key")?,
        &config.public,
    );
    let ws_hub = sip_ws::WsHub::new(
        ws_conns,
        ws_to_engine,
        sip_ws::WsSettings {
            max_message: config.sip.max_message_bytes,
            limits: net.ws.clone(),
            header_timeout: config.sip.tcp_header_timeout,
            idle_timeout: config.sip.tcp_idle_timeout,
            origins: crate::sip::ws::OriginPolicy::new(&config.http.ws_origins)
                .context("http.ws_origins")?,
            secure: config.http.tls_cert.is_some(),
            counters: net.ws_counters.clone(),
        },
    );
    let records_at = record_files::RecordsAt {
        data_dir: config.storage.data_dir.clone(),
        postgres: config.storage.url.clone(),
    };
    let api = crate::cti::router(crate::cti::ApiState {
        engine: engine_handle.clone(),
        recent,
        records: records_at.clone(),
        media: media_counters,
        users: tickets.users(),
        live: live.clone(),
        tickets: tickets.worker().metrics().clone(),
        internet,
        linkage,
        net: net.clone(),
        reloads: reload_counters,
        call_in,
        kb: Some(kb.metrics.clone()),
        warnings: Some(warnings_hub.clone()),
        cluster: cluster_status,
        shared_calls: shared_calls_stats,
    })
    .merge(crate::cti::kb::router(kb_api))
    .merge(crate::cti::public::router(public))
    .merge(crate::cti::web_items::router(tickets.clone()))
    .merge(crate::cti::analytics_api::router(
        crate::cti::analytics_api::AnalyticsApi {
            tickets: tickets.clone(),
            data_dir: config.storage.data_dir.clone(),
            limits: config.analytics.clone(),
        },
    ))
    .merge(crate::cti::stats_api::router(
        crate::cti::stats_api::StatsApi {
            tickets: tickets.clone(),
            records: records_at.clone(),
            kpi: config.kpi.clone(),
        },
    ))
    .merge(crate::cti::tickets::router(tickets))
    .merge(sip_ws::router(ws_hub))
    .fallback(crate::cti::extract::no_route);
    let http = tokio::spawn(http_serve::serve(
        listeners.http,
        api,
        net.http.clone(),
        http_serve::HttpSettings {
            header_timeout: config.http.header_timeout,
            idle_timeout: config.http.idle_timeout,
        },
        tls_config,
        shutdown.clone(),
    ));

    // The line tests and operators read to learn where we listen.
    println!("listening sip={sip_addr} http={http_addr}");
    tracing::info!(sip = %sip_addr, http = %http_addr, https = tls_on, rtp = %config.rtp.address, menus = assets.menus.menus().count(), "hotline serving");

    engine.await.context("engine task failed")?;
    sweeper.abort();
    kb_sweeper.abort();
    if let Some(r) = reloader {
        r.abort();
    }
    internet_watch.abort();
    warnings_task.abort();
    linkage_watch.abort();
    web_items.abort();
    publisher.abort();
    crate::cti::live::close(&live);
    if let Err(e) = http.await {
        tracing::warn!(error = %e, "HTTP task failed");
    }
    tracing::info!("hotline stopped");
    Ok(())
}

/// The handling units' phone numbers of `config_dir/dispatch.toml`, for the call engine (W3:
/// an agent brings a unit onto a call through the `[transfer]` gateway). The file was already
/// validated with the rest of the configuration; a problem here is reported as `file: …`.
fn unit_numbers(config_dir: &Path) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
    let path = config_dir.join("dispatch.toml");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| anyhow::anyhow!("{}: cannot read: {e}", path.display()))?;
    let catalogue = crate::workflow::catalogue::DispatchCatalogue::from_toml_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(catalogue.unit_numbers())
}

/// The agents' configured HA1 values, as the registrar asks for them.
struct AgentCredentials(crate::acd::config::AcdConfig);

impl crate::sip::registrar::CredentialStore for AgentCredentials {
    fn ha1(
        &self,
        user: &str,
        realm: &str,
        algorithm: crate::sip::registrar::Algorithm,
    ) -> Option<String> {
        if realm != self.0.realm {
            return None;
        }
        self.0
            .phone_credentials(user)
            .and_then(|c| c.ha1(algorithm))
            .map(str::to_string)
    }
}
