//! placeholder
pub struct ToneDetector;
pub struct ToneDetectorConfig;
