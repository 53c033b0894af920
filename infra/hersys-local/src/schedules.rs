//! The schedules of `template.yaml`, fired as timers by `hersys serve`. A test checks that this table and the
//! template agree.

use std::time::Duration;

use crate::invoke::Function;

/// What a schedule of the template starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A function, with a scheduled event.
    Function(Function),
    /// `FullLinkageStateMachine`, with an execution input (run locally as `hersys relink` runs it).
    FullLinkage,
}

/// One schedule of the template: what it starts, its event in the template, the period, and the event's `detail`
/// (a function's) or the execution's input (the state machine's).
pub struct Schedule {
    pub target: Target,
    pub event: &'static str,
    pub period: Duration,
    pub detail: &'static str,
}

/// `rate(1 minute)`, hourly `cron(0 * * * ? *)` and daily `cron(30 3 * * ? *)` in the template (the daily one fires
/// a day after `hersys serve` starts, not at 03:30).
pub const SCHEDULES: &[Schedule] = &[
    Schedule {
        target: Target::Function(Function::Reissue),
        event: "EveryMinute",
        period: Duration::from_secs(60),
        detail: "{}",
    },
    Schedule {
        target: Target::Function(Function::Linkage),
        event: "Hourly",
        period: Duration::from_secs(3600),
        detail: "{}",
    },
    // The daily linkage estimate from a sample and the re-link in partitions.
    Schedule {
        target: Target::FullLinkage,
        event: "DailyEstimate",
        period: Duration::from_secs(86_400),
        detail: r#"{"estimate": {}}"#,
    },
    Schedule {
        target: Target::Function(Function::Export),
        event: "Hourly",
        period: Duration::from_secs(3600),
        detail: "{}",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The period a template schedule expression means, for the expressions this product uses.
    fn period_of(expression: &str) -> Duration {
        match expression.trim() {
            "rate(1 minute)" => Duration::from_secs(60),
            "rate(1 hour)" | "cron(0 * * * ? *)" => Duration::from_secs(3600),
            "cron(30 3 * * ? *)" => Duration::from_secs(86_400),
            other => panic!("teach this test the schedule expression {other}"),
        }
    }

    /// The `ScheduleExpression` and `detail` (a function's event) or `Input` (a state machine's) of an event of a
    /// top-level resource of template.yaml.
    fn schedule_of(template: &str, resource: &str, event: &str) -> (String, String) {
        let start =
            template.find(&format!("\n  {resource}:\n")).unwrap_or_else(|| panic!("{resource} not in template"));
        // The resource's lines run until the next top-level resource (two spaces of indent, then a name).
        let is_sibling = |l: &&str| l.starts_with("  ") && !l.starts_with("   ") && !l.trim().is_empty();
        let lines: Vec<&str> = template[start + 1..].lines().skip(1).take_while(|l| !is_sibling(l)).collect();
        let at = lines.iter().position(|l| l.trim() == format!("{event}:")).unwrap_or_else(|| panic!("{event}?"));
        let expression = lines[at..]
            .iter()
            .find_map(|l| l.trim().strip_prefix("ScheduleExpression:").map(str::to_owned))
            .unwrap_or_else(|| panic!("{resource} {event} has no schedule"));
        let detail = lines[at..]
            .iter()
            .find_map(|l| {
                if let Some(input) = l.trim().strip_prefix("Input: '") {
                    return Some(input.trim_end_matches('\'').to_owned());
                }
                Some(l.split_once(r#""detail":"#)?.1.trim().trim_end_matches('}').to_owned() + "}")
            })
            .unwrap_or_else(|| panic!("{resource} {event} has no detail"));
        (expression, detail)
    }

    #[test]
    fn local_timers_follow_the_templates_schedules() {
        // (The daily estimate is the state machine's schedule, not the linkage function's.)
        let template = include_str!("../../../template.yaml");
        let linkage = template.find("\n  LinkageFunction:\n").unwrap();
        let next = template[linkage + 3..].find("\n  ExportFunction:\n").unwrap();
        assert!(!template[linkage..linkage + next].contains("DailyEstimate:"), "one daily estimate");
        let template = include_str!("../../../template.yaml");
        for schedule in SCHEDULES {
            let resource = match schedule.target {
                Target::Function(Function::Reissue) => "ReissueFunction",
                Target::Function(Function::Linkage) => "LinkageFunction",
                Target::Function(Function::Export) => "ExportFunction",
                Target::Function(Function::HttpApi) => unreachable!("http-api is not scheduled"),
                Target::FullLinkage => "FullLinkageStateMachine",
            };
            let (expression, detail) = schedule_of(template, resource, schedule.event);
            assert_eq!(period_of(&expression), schedule.period, "{resource} {}", schedule.event);
            assert_eq!(detail, schedule.detail, "{resource} {}", schedule.event);
        }
    }
}
