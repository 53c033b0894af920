//! The schedules of `template.yaml`, fired as timers by `hersys serve`. A test checks that this table and the
//! template agree.

use std::time::Duration;

use crate::invoke::Function;

/// (function, period). The template's expressions are `rate(1 minute)` and `rate(1 hour)`.
pub const SCHEDULES: &[(Function, Duration)] = &[
    (Function::Reissue, Duration::from_secs(60)),
    (Function::Linkage, Duration::from_secs(3600)),
    (Function::Export, Duration::from_secs(3600)),
];
