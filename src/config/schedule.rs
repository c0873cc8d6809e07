//! `AUTH0_JOB_POLLING_INTERVAL`: when a bulk-activation job polls the auth provider's import
//! jobs — every interval (a duration, as before) or at the next occurrences of a cron
//! expression, as the Mia-Platform User Manager Service documents it ("cron or human readable").
//!
//! Cron expressions follow POSIX/Vixie cron (5 fields, `*/2 * * * *`), with an optional leading
//! seconds field (6 fields) and the `@hourly`-style nicknames; they are read in UTC.

use std::str::FromStr;
use std::time::Duration;

use croner::parser::{CronParser, Seconds, Year};
use time::OffsetDateTime;

use crate::clock::Clock;

/// The forms the variable accepts, for error messages.
const ACCEPTED: &str = "expected a duration (seconds, or e.g. \"2 minutes\") or a cron expression \
                        (5 fields, e.g. \"*/2 * * * *\", or 6 with seconds first)";

/// When to poll.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PollSchedule {
    /// Every interval (never zero).
    Every(Duration),
    /// At each occurrence of a cron expression (UTC).
    Cron(CronSchedule),
}

/// A parsed cron expression that fires at least once more.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CronSchedule {
    expression: String,
    /// Boxed: a parsed pattern takes a few hundred bytes, which would size every `PollSchedule`.
    cron: Box<croner::Cron>,
}

impl CronSchedule {
    /// The expression as configured.
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// The first occurrence strictly after `now`, if there is one.
    fn next_after(&self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        let from = chrono::DateTime::from_timestamp(now.unix_timestamp(), now.nanosecond())?;
        let next = self.cron.find_next_occurrence(&from, false).ok()?;
        let nanos = i128::from(next.timestamp()) * 1_000_000_000 + i128::from(next.timestamp_subsec_nanos());
        OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
    }
}

impl FromStr for CronSchedule {
    type Err = String;

    /// A 5- or 6-field expression (or a nickname) that has a next occurrence from now.
    fn from_str(text: &str) -> Result<Self, String> {
        let parser = CronParser::builder()
            .seconds(Seconds::Optional)
            .year(Year::Disallowed)
            .build();
        let cron = Box::new(parser.parse(text).map_err(|e| e.to_string())?);
        let schedule = Self {
            expression: text.to_owned(),
            cron,
        };
        if schedule.next_after(OffsetDateTime::now_utc()).is_none() {
            return Err("it never fires".to_owned());
        }
        Ok(schedule)
    }
}

impl PollSchedule {
    /// Reads the variable's value: a whole number of seconds (`45`), a duration in words
    /// (`2 minutes`, `1m 30s`) or a cron expression (`*/2 * * * *`); `Err` says why it is none
    /// of them, naming both accepted forms.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let duration = match text.parse::<u64>() {
            Ok(seconds) => Ok(Duration::from_secs(seconds)),
            Err(_) => humantime::parse_duration(text),
        };
        match duration {
            Ok(interval) if interval.is_zero() => Err("a zero interval is not allowed".to_owned()),
            Ok(interval) => Ok(Self::Every(interval)),
            Err(as_duration) => match text.parse::<CronSchedule>() {
                Ok(cron) => Ok(Self::Cron(cron)),
                Err(as_cron) => Err(format!(
                    "\"{text}\" is neither a duration ({as_duration}) nor a cron expression \
                     ({as_cron}): {ACCEPTED}"
                )),
            },
        }
    }

    /// How long to wait, from `now`, until the next poll: the interval, or the time left until
    /// the expression's next occurrence (never negative).
    pub fn delay_after(&self, now: OffsetDateTime) -> Duration {
        match self {
            Self::Every(interval) => *interval,
            Self::Cron(cron) => match cron.next_after(now) {
                Some(next) => Duration::try_from(next - now).unwrap_or(Duration::ZERO),
                // Checked at startup; an expression that stops firing later (past its last
                // year) falls back to the default interval rather than spinning.
                None => DEFAULT_INTERVAL,
            },
        }
    }

    /// How long to wait until the next poll, from the time `clock` says it is.
    pub fn next_delay(&self, clock: &dyn Clock) -> Duration {
        self.delay_after(clock.now())
    }
}

/// The default: every 2 minutes.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(120);

impl Default for PollSchedule {
    fn default() -> Self {
        Self::Every(DEFAULT_INTERVAL)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use time::macros::datetime;

    use super::*;
    use crate::clock::ManualClock;

    fn cron(text: &str) -> PollSchedule {
        match PollSchedule::parse(text) {
            Ok(schedule @ PollSchedule::Cron(_)) => schedule,
            other => panic!("{text}: expected a cron schedule, got {other:?}"),
        }
    }

    #[test]
    fn durations_in_seconds_or_words_are_intervals() {
        let every = |s| PollSchedule::Every(Duration::from_secs(s));
        assert_eq!(PollSchedule::parse("45"), Ok(every(45)));
        assert_eq!(PollSchedule::parse("2 minutes"), Ok(every(120)));
        assert_eq!(PollSchedule::parse("1m 30s"), Ok(every(90)));
        assert_eq!(
            PollSchedule::parse("200ms"),
            Ok(PollSchedule::Every(Duration::from_millis(200)))
        );
        assert_eq!(PollSchedule::default(), every(120));
    }

    #[test]
    fn five_and_six_field_cron_expressions_and_nicknames_are_accepted() {
        for text in ["*/2 * * * *", "30 */2 * * * *", "0 9-17 * * MON-FRI", "@hourly"] {
            let PollSchedule::Cron(schedule) = cron(text) else {
                unreachable!()
            };
            assert_eq!(schedule.expression(), text);
        }
    }

    #[test]
    fn a_value_of_neither_form_names_both() {
        for text in ["soon", "* * *", "*/2 * * * * * *", "61 * * * *", "0"] {
            let error = PollSchedule::parse(text).unwrap_err();
            if text == "0" {
                assert_eq!(error, "a zero interval is not allowed");
                continue;
            }
            assert!(error.contains("duration"), "{text}: {error}");
            assert!(error.contains("cron expression"), "{text}: {error}");
            assert!(error.contains("\"2 minutes\""), "{text}: {error}");
            assert!(error.contains("\"*/2 * * * *\""), "{text}: {error}");
        }
    }

    #[test]
    fn an_expression_that_never_fires_is_refused() {
        let error = PollSchedule::parse("0 0 30 2 *").unwrap_err();
        assert!(error.contains("never fires"), "{error}");
    }

    #[test]
    fn an_interval_waits_the_same_whatever_the_time() {
        let schedule = PollSchedule::Every(Duration::from_secs(30));
        assert_eq!(
            schedule.delay_after(datetime!(2024-05-01 10:00:07.5 UTC)),
            Duration::from_secs(30)
        );
    }

    #[test]
    fn a_cron_expression_waits_until_its_next_occurrence_on_the_clock() {
        let clock = Arc::new(ManualClock::new(datetime!(2024-05-01 10:00:30 UTC)));
        let schedule = cron("*/2 * * * *");
        assert_eq!(schedule.next_delay(clock.as_ref()), Duration::from_secs(90));
        // Exactly on an occurrence: the next one, not now.
        clock.set(datetime!(2024-05-01 10:02:00 UTC));
        assert_eq!(schedule.next_delay(clock.as_ref()), Duration::from_secs(120));
        clock.set(datetime!(2024-05-01 10:03:59.75 UTC));
        assert_eq!(schedule.next_delay(clock.as_ref()), Duration::from_millis(250));
        // Seconds field: every 15 seconds.
        let seconds = cron("*/15 * * * * *");
        clock.set(datetime!(2024-05-01 10:00:01 UTC));
        assert_eq!(seconds.next_delay(clock.as_ref()), Duration::from_secs(14));
        // Across a day: 09:00 on weekdays, asked on a Friday evening (2024-05-03).
        let weekdays = cron("0 9 * * MON-FRI");
        clock.set(datetime!(2024-05-03 18:00:00 UTC));
        assert_eq!(
            weekdays.next_delay(clock.as_ref()),
            Duration::from_secs((2 * 24 + 15) * 3600)
        );
    }
}
