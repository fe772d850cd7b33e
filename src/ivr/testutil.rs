//! Test helpers shared by the loader's and the navigator's tests: a fake prompt catalog, the
//! shipped menu, and a clock origin.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::load::{load, LoadOptions, PromptCatalog};
use super::model::MenuTree;

/// Prompt lengths by file name; anything else is "missing".
pub struct Fake(pub HashMap<String, Duration>);

impl PromptCatalog for Fake {
    fn duration(&self, file: &str) -> Result<Duration, String> {
        self.0
            .get(file)
            .copied()
            .ok_or_else(|| "no such file".to_string())
    }
}

pub const SHIPPED: &str = include_str!("../../ivr-menus/menus.toml");

/// The shipped callback robot script.
pub const ROBOT: &str = include_str!("../../ivr-menus/callback.toml");

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Every prompt the shipped menu names, with plausible lengths (the real files come later).
pub fn catalog() -> Fake {
    let mut m: HashMap<String, Duration> = [
        ("greeting.wav", secs(6)),
        ("main-menu.wav", secs(8)),
        ("special-menu.wav", secs(7)),
        ("invalid-key.wav", secs(2)),
        ("no-input.wav", secs(2)),
        ("transfer.wav", secs(2)),
        ("queue-position-prefix.wav", secs(1)),
        ("queue-position-suffix.wav", secs(1)),
        ("hold-music.ogg", secs(60)),
        ("info.wav", secs(3)),
        ("robot-identify.wav", secs(7)),
        ("robot-consent.wav", secs(5)),
        ("robot-contacted.wav", secs(6)),
        ("robot-solved.wav", secs(6)),
        ("robot-rating.wav", secs(8)),
        ("robot-reason.wav", secs(5)),
        ("robot-thanks.wav", secs(6)),
        ("robot-goodbye.wav", secs(5)),
        ("callback-offer.wav", secs(7)),
        ("callback-confirm-prefix.wav", secs(2)),
        ("callback-confirm-suffix.wav", secs(8)),
        ("callback-enter.wav", secs(5)),
        ("callback-accepted.wav", secs(7)),
        ("surge-notice.wav", secs(9)),
        ("callback-agent.wav", secs(4)),
        ("ringback.wav", secs(5)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for d in 0..10 {
        m.insert(format!("digit-{d}.wav"), Duration::from_millis(500));
    }
    Fake(m)
}

/// The shipped menu over the fake catalog.
pub fn shipped_tree() -> Arc<MenuTree> {
    let files = [(PathBuf::from("menus.toml"), SHIPPED.to_string())];
    match load(&files, &catalog(), &LoadOptions::default()) {
        Ok(loaded) => Arc::new(loaded.tree),
        Err(e) => panic!("shipped menu does not load: {e:#?}"),
    }
}

/// The shipped robot script (beside the shipped menu) over the fake catalog.
pub fn shipped_robot() -> Arc<crate::ivr::script::RobotScript> {
    let files = [
        (PathBuf::from("menus.toml"), SHIPPED.to_string()),
        (PathBuf::from("callback.toml"), ROBOT.to_string()),
    ];
    match load(&files, &catalog(), &LoadOptions::default()) {
        Ok(mut loaded) => match loaded.robots.remove("callback") {
            Some(robot) => Arc::new(robot),
            None => panic!("the shipped robot is missing: {:?}", loaded.robots.keys()),
        },
        Err(e) => panic!("shipped robot does not load: {e:#?}"),
    }
}

/// A fixed origin for fake time; tests step from it with `t0 + Duration`. The core may not read
/// the clock, so the origin comes from the shell's one clock function, once.
pub fn t0() -> Instant {
    crate::shell::clock::now()
}
