//! The schedules of `template.yaml`, fired as timers by `hersys serve`. A test checks that this table and the
//! template agree.

use std::time::Duration;

use crate::invoke::Function;

/// (function, period): `rate(1 minute)` and hourly `cron(0 * * * ? *)` in the template.
pub const SCHEDULES: &[(Function, Duration)] = &[
    (Function::Reissue, Duration::from_secs(60)),
    (Function::Linkage, Duration::from_secs(3600)),
    (Function::Export, Duration::from_secs(3600)),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The period a template schedule expression means, for the expressions this product uses.
    fn period_of(expression: &str) -> Duration {
        match expression.trim() {
            "rate(1 minute)" => Duration::from_secs(60),
            "rate(1 hour)" | "cron(0 * * * ? *)" => Duration::from_secs(3600),
            other => panic!("teach this test the schedule expression {other}"),
        }
    }

    /// The `ScheduleExpression` inside a top-level resource of template.yaml.
    fn expression_of(template: &str, resource: &str) -> String {
        let start =
            template.find(&format!("\n  {resource}:\n")).unwrap_or_else(|| panic!("{resource} not in template"));
        // The resource's lines run until the next top-level resource (two spaces of indent, then a name).
        let is_sibling = |l: &&str| l.starts_with("  ") && !l.starts_with("   ") && !l.trim().is_empty();
        let lines: Vec<&str> = template[start + 1..].lines().skip(1).take_while(|l| !is_sibling(l)).collect();
        lines
            .iter()
            .find_map(|l| l.trim().strip_prefix("ScheduleExpression:").map(str::to_owned))
            .unwrap_or_else(|| panic!("{resource} has no schedule"))
    }

    #[test]
    fn local_timers_follow_the_templates_schedules() {
        let template = include_str!("../../../template.yaml");
        for &(function, period) in SCHEDULES {
            let resource = match function {
                Function::Reissue => "ReissueFunction",
                Function::Linkage => "LinkageFunction",
                Function::Export => "ExportFunction",
                Function::Ingest => unreachable!("ingest is not scheduled"),
            };
            assert_eq!(period_of(&expression_of(template, resource)), period, "{resource}");
        }
    }
}
