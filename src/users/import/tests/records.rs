//! Records from physical lines: broken quoting is reported on its first line and never merges
//! rows; legit quoted values spanning lines still read; the limits hold; the work stays linear.

use crate::users::import::quoting::Dialect;
use crate::users::import::records::{Problem, Record, RecordLimits, Records, Width};

const COMMA: Dialect = Dialect {
    delimiter: b',',
    escape: None,
};

const LIMITS: RecordLimits = RecordLimits {
    max_bytes: 1024,
    max_lines: 100,
};

/// Every record of `text`, each as (first line, last line, fields or problem).
pub(super) fn records_with(text: &[u8], dialect: Dialect, limits: RecordLimits, width: usize) -> Vec<Record> {
    let mut records = Records::new(text, dialect, limits);
    let mut all = Vec::new();
    while let Some(record) = records
        .next_record(Width::Exactly(width))
        .expect("a slice never fails")
    {
        all.push(record);
    }
    all
}

fn records(text: &str, width: usize) -> Vec<Record> {
    records_with(text.as_bytes(), COMMA, LIMITS, width)
}

fn ok(first: u64, last: u64, fields: &[&str]) -> Record {
    Record {
        first_line: first,
        last_line: last,
        fields: Ok(fields.iter().map(|f| f.as_bytes().to_vec()).collect()),
    }
}

fn bad(line: u64, problem: Problem) -> Record {
    Record {
        first_line: line,
        last_line: line,
        fields: Err(problem),
    }
}

#[test]
fn an_unterminated_quote_is_reported_on_its_line_and_the_next_line_is_still_read() {
    assert_eq!(
        records("c,\"Ann\nc,Bob\n", 2),
        [bad(1, Problem::Unclosed), ok(2, 2, &["c", "Bob"])]
    );
    // Without a line break at the end, and on the very last line.
    assert_eq!(
        records("c,\"Ann\nc,Bob", 2),
        [bad(1, Problem::Unclosed), ok(2, 2, &["c", "Bob"])]
    );
    assert_eq!(records("c,\"Ann", 2), [bad(1, Problem::Unclosed)]);
}

#[test]
fn a_quoted_value_spanning_lines_with_the_right_width_is_one_record() {
    assert_eq!(
        records("c,\"line 1\n\nline \"\"3\"\"\",x\nd,y,z\n", 3),
        [
            ok(1, 3, &["c", "line 1\n\nline \"3\"", "x"]),
            ok(4, 4, &["d", "y", "z"])
        ]
    );
    // Line breaks inside the value are kept as written.
    assert_eq!(
        records("c,\"a\r\nb\rc\"\r\nd,e\r\n", 2),
        [ok(1, 3, &["c", "a\r\nb\rc"]), ok(4, 4, &["d", "e"])]
    );
}

#[test]
fn a_quoted_value_spanning_lines_into_a_row_of_the_wrong_width_is_not_merged() {
    // The quote left open on line 1 would swallow line 2 and make three values.
    let read = records("c,\"Ann\nc,Bob\",x\nc,Cid\n", 2);
    assert_eq!(
        read[0],
        bad(
            1,
            Problem::Count {
                found: 3,
                expected: 2,
                lines: 2
            }
        )
    );
    assert_eq!(
        read[1],
        bad(
            2,
            Problem::Count {
                found: 3,
                expected: 2,
                lines: 1
            }
        )
    );
    assert_eq!(read[2], ok(3, 3, &["c", "Cid"]));
}

#[test]
fn a_quoted_value_spanning_lines_that_closes_sloppily_is_not_merged() {
    // Line 1 opens a quote; line 3 closes it with text glued after the quote.
    let read = records("c,\"Ann\nc,Bob\nc,\"Cid\"x\n", 2);
    assert_eq!(
        read,
        [
            bad(1, Problem::Sloppy),
            ok(2, 2, &["c", "Bob"]),
            ok(3, 3, &["c", "Cidx"])
        ]
    );
}

#[test]
fn blank_lines_between_records_are_skipped_but_counted_as_lines() {
    assert_eq!(
        records("\na,b\n\r\n\nc,d\n", 2),
        [ok(2, 2, &["a", "b"]), ok(5, 5, &["c", "d"])]
    );
}

#[test]
fn an_escape_character_quotes_a_quote_or_a_line_break() {
    let backslash = Dialect {
        delimiter: b';',
        escape: Some(b'\\'),
    };
    let read = records_with(b"c;\"say \\\"hi\\\"\"\nc;\"a\\\nb\"\n", backslash, LIMITS, 2);
    assert_eq!(read, [ok(1, 1, &["c", "say \"hi\""]), ok(2, 3, &["c", "a\nb"])]);
}

#[test]
fn a_line_or_a_quoted_value_over_the_byte_limit_is_reported_and_reading_resumes() {
    let limits = RecordLimits {
        max_bytes: 16,
        max_lines: 100,
    };
    let long = format!("c,{}\nc,ok\n", "x".repeat(40));
    assert_eq!(
        records_with(long.as_bytes(), COMMA, limits, 2),
        [bad(1, Problem::TooLong), ok(2, 2, &["c", "ok"])]
    );
    // 3 lines of 6 bytes: the quoted value would be 18 bytes long.
    let spanning = b"c,\"ab\nccccc\nddd\",\nc,ok\n";
    assert_eq!(
        records_with(spanning, COMMA, limits, 2),
        [
            bad(1, Problem::TooLong),
            bad(
                2,
                Problem::Count {
                    found: 1,
                    expected: 2,
                    lines: 1
                }
            ),
            ok(3, 3, &["ddd\"", ""]),
            ok(4, 4, &["c", "ok"])
        ]
    );
}

#[test]
fn a_quoted_value_over_the_line_limit_is_reported_and_reading_resumes() {
    let limits = RecordLimits {
        max_bytes: 1024,
        max_lines: 3,
    };
    let text = b"c,\"a\n\n\n\nb\"\nc,ok\n";
    let read = records_with(text, COMMA, limits, 2);
    assert_eq!(read[0], bad(1, Problem::TooManyLines));
    assert_eq!(read.last(), Some(&ok(6, 6, &["c", "ok"])));
    // Within the limit, the same value reads.
    let read = records_with(b"c,\"a\n\nb\"\nc,ok\n", COMMA, limits, 2);
    assert_eq!(read, [ok(1, 3, &["c", "a\n\nb"]), ok(4, 4, &["c", "ok"])]);
}

#[test]
fn too_many_fields_for_the_header_is_its_own_problem() {
    let mut records = Records::new(&b"a,b,c\n"[..], COMMA, LIMITS);
    let header = records.next_record(Width::AtMost(2)).unwrap().unwrap();
    assert_eq!(header.fields, Err(Problem::TooManyFields { found: 3, max: 2 }));
}

/// Lines that leave a quote open both from the start of a record and from inside a quoted
/// value: with a rescan from each line, reading them would take quadratic time.
#[test]
fn lines_that_keep_reopening_quotes_are_read_in_linear_time() {
    let lines = 200_000;
    let text = "x\",\"\n".repeat(lines);
    let limits = RecordLimits {
        max_bytes: 1 << 20,
        max_lines: 10_000,
    };
    let started = std::time::Instant::now();
    let read = records_with(text.as_bytes(), COMMA, limits, 2);
    assert_eq!(read.len(), lines);
    assert!(read.iter().all(|r| r.fields.is_err()));
    // Linear: well under a second even in a debug build; quadratic: many minutes.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}
