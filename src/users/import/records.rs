//! Records from physical lines, so that broken quoting never merges rows.
//!
//! A line that ends inside a quoted value goes on with the next lines, as CSV allows, but only
//! when the quoted value then closes properly (its closing quote followed by the delimiter or
//! the end of a line, no text glued after a closing quote on any of those lines) and the record
//! has the expected number of fields, within the size limits. Otherwise the quote is taken for
//! a mistake: the first line alone is reported invalid and reading resumes at the next line.
//!
//! Each line is scanned at most twice (once from the start of a record, once from inside a
//! quoted value) whatever the file holds: the scans from inside are kept with running totals,
//! and the search for the line that closes a quoted value never goes back.

use std::collections::VecDeque;
use std::io::{self, BufRead};

use super::lines::{Line, LineReader};
use super::quoting::{Dialect, LineScan};

/// Why a record could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The record (one line, or the lines of a quoted value) is longer than `max_bytes`.
    TooLong,
    /// A quoted value would span more than `max_lines` lines.
    TooManyLines,
    /// A quoted value opened on the line is never closed before the end of the file.
    Unclosed,
    /// A quoted value spanning lines does not end at a delimiter or at the end of a line.
    Sloppy,
    /// The record has `found` fields where `expected` were due (`lines`: the lines it spans).
    Count {
        /// Fields found.
        found: usize,
        /// Fields expected.
        expected: usize,
        /// Lines the record would span.
        lines: u64,
    },
    /// The record has more fields than allowed (`found` > `max`).
    TooManyFields {
        /// Fields found.
        found: usize,
        /// The most allowed.
        max: usize,
    },
}

/// How many fields a record must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Width {
    /// Exactly this many (the data rows: the header's width).
    Exactly(usize),
    /// At most this many (the header row).
    AtMost(usize),
}

/// A record: the physical lines it spans, and its fields or why it cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Its first physical line.
    pub first_line: u64,
    /// Its last physical line (the first one when invalid: reading resumes after it).
    pub last_line: u64,
    /// Its fields (raw bytes) or its problem.
    pub fields: Result<Vec<Vec<u8>>, Problem>,
}

/// The size limits of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordLimits {
    /// Bytes of a record, line breaks included.
    pub max_bytes: usize,
    /// Physical lines of a record.
    pub max_lines: u64,
}

/// A line read ahead, with its scan from inside a quoted value and running totals of those
/// scans since the start of the file.
struct Pending {
    line: Line,
    inside: LineScan,
    total_delimiters: u64,
    total_sloppy: u64,
    total_bytes: u64,
}

/// Where the quoted value opened on the first line of a record closes.
enum Close {
    /// On this line (absolute index).
    At(u64),
    /// Not within the limits, or never.
    Not(Problem),
}

/// Reads records from lines.
pub struct Records<R> {
    lines: LineReader<R>,
    dialect: Dialect,
    limits: RecordLimits,
    /// Lines read ahead; the first one starts the next record.
    buffer: VecDeque<Pending>,
    /// Absolute index (0-based, in the file) of `buffer[0]`.
    base: u64,
    /// Totals of the last line read (the running totals go on from there).
    totals: (u64, u64, u64),
    /// Lines before this absolute index have been searched for a closing line...
    searched_to: u64,
    /// ...and this is the last closing line found (lines between it and `searched_to` stay open).
    last_close: Option<u64>,
    eof: bool,
}

impl<R: BufRead> Records<R> {
    /// Records of `source` read with `dialect`, within `limits`.
    pub fn new(source: R, dialect: Dialect, limits: RecordLimits) -> Self {
        Self {
            lines: LineReader::new(source, limits.max_bytes),
            dialect,
            limits,
            buffer: VecDeque::new(),
            base: 0,
            totals: (0, 0, 0),
            searched_to: 0,
            last_close: None,
            eof: false,
        }
    }

    /// The next record; blank lines are skipped. `None` at the end of the file; `Err` when the
    /// source fails (an aborted upload).
    pub fn next_record(&mut self, width: Width) -> io::Result<Option<Record>> {
        loop {
            if self.buffer.is_empty() && !self.read_ahead()? {
                return Ok(None);
            }
            let Some(first) = self.buffer.front() else {
                return Ok(None);
            };
            let number = first.line.number;
            if first.line.too_long {
                self.pop(1);
                return Ok(Some(invalid(number, Problem::TooLong)));
            }
            if first.line.text.is_empty() {
                self.pop(1);
                continue;
            }
            let scan = self.dialect.scan(&first.line.text, false);
            if !scan.open {
                let fields = match check_width(scan.delimiters + 1, width, 1) {
                    Ok(()) => Ok(self.take(1)),
                    Err(problem) => {
                        self.pop(1);
                        Err(problem)
                    }
                };
                return Ok(Some(Record {
                    first_line: number,
                    last_line: number,
                    fields,
                }));
            }
            return self.spanning(number, scan, width).map(Some);
        }
    }

    /// A record whose first line ends inside a quoted value.
    fn spanning(&mut self, number: u64, scan: LineScan, width: Width) -> io::Result<Record> {
        let close = match self.close_of_first()? {
            Close::At(close) => close,
            Close::Not(problem) => {
                self.pop(1);
                return Ok(invalid(number, problem));
            }
        };
        let lines = close - self.base + 1;
        let (first, last) = (self.pending(self.base), self.pending(close));
        let delimiters = last.total_delimiters - first.total_delimiters;
        let sloppy = scan.sloppy || last.total_sloppy > first.total_sloppy;
        let count = usize::try_from(delimiters)
            .unwrap_or(usize::MAX)
            .saturating_add(scan.delimiters)
            .saturating_add(1);
        let checked = if sloppy {
            Err(Problem::Sloppy)
        } else {
            check_width(count, width, lines)
        };
        if let Err(problem) = checked {
            self.pop(1);
            return Ok(invalid(number, problem));
        }
        let fields = self.take(lines);
        Ok(Record {
            first_line: number,
            last_line: number + lines - 1,
            fields: Ok(fields),
        })
    }

    /// The line that closes the quoted value opened on the first buffered line, reading ahead
    /// as needed, never past the limits.
    fn close_of_first(&mut self) -> io::Result<Close> {
        let start = self.base + 1;
        if let Some(close) = self.last_close.filter(|c| *c >= start) {
            return Ok(self
                .within_limits(close)
                .map_or_else(Close::Not, |()| Close::At(close)));
        }
        let mut at = start.max(self.searched_to);
        loop {
            // Lines up to `at - 1` are open: stop as soon as they are over a limit.
            if at > start {
                if let Err(problem) = self.within_limits(at - 1) {
                    return Ok(Close::Not(problem));
                }
            }
            if at >= self.base + self.buffer.len() as u64 && !self.read_ahead()? {
                return Ok(Close::Not(Problem::Unclosed));
            }
            self.searched_to = at + 1;
            if !self.pending(at).inside.open {
                self.last_close = Some(at);
                return Ok(self.within_limits(at).map_or_else(Close::Not, |()| Close::At(at)));
            }
            at += 1;
        }
    }

    /// Whether the record from the first buffered line to `last` is within the limits.
    fn within_limits(&self, last: u64) -> Result<(), Problem> {
        let first = self.pending(self.base);
        let bytes = first.line.len(self.limits.max_bytes) as u64
            + (self.pending(last).total_bytes - first.total_bytes);
        if bytes > self.limits.max_bytes as u64 {
            return Err(Problem::TooLong);
        }
        if last - self.base + 1 > self.limits.max_lines {
            return Err(Problem::TooManyLines);
        }
        Ok(())
    }

    /// Reads one more line into the buffer; `false` at the end of the file.
    fn read_ahead(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        let Some(line) = self.lines.next_line()? else {
            self.eof = true;
            return Ok(false);
        };
        let inside = if line.too_long {
            LineScan {
                open: true,
                ..LineScan::default()
            }
        } else {
            self.dialect.scan(&line.text, true)
        };
        let (delimiters, sloppy, bytes) = self.totals;
        self.totals = (
            delimiters + inside.delimiters as u64,
            sloppy + u64::from(inside.sloppy),
            bytes + line.len(self.limits.max_bytes) as u64,
        );
        self.buffer.push_back(Pending {
            line,
            inside,
            total_delimiters: self.totals.0,
            total_sloppy: self.totals.1,
            total_bytes: self.totals.2,
        });
        Ok(true)
    }

    /// The buffered line at absolute index `at` (callers only ask for buffered lines).
    fn pending(&self, at: u64) -> &Pending {
        let index = usize::try_from(at - self.base).unwrap_or(usize::MAX);
        &self.buffer[index]
    }

    /// Drops the first `count` buffered lines.
    fn pop(&mut self, count: u64) {
        for _ in 0..count {
            if self.buffer.pop_front().is_some() {
                self.base += 1;
            }
        }
    }

    /// Takes the first `count` buffered lines as one record and splits it into fields.
    fn take(&mut self, count: u64) -> Vec<Vec<u8>> {
        let mut text = Vec::new();
        for index in 0..count {
            let Some(pending) = self.buffer.pop_front() else {
                break;
            };
            self.base += 1;
            text.extend_from_slice(&pending.line.text);
            if index + 1 < count {
                text.extend_from_slice(pending.line.end.bytes());
            }
        }
        self.dialect.fields(&text)
    }
}

fn check_width(count: usize, width: Width, lines: u64) -> Result<(), Problem> {
    match width {
        Width::Exactly(expected) if count != expected => Err(Problem::Count {
            found: count,
            expected,
            lines,
        }),
        Width::AtMost(max) if count > max => Err(Problem::TooManyFields { found: count, max }),
        _ => Ok(()),
    }
}

fn invalid(line: u64, problem: Problem) -> Record {
    Record {
        first_line: line,
        last_line: line,
        fields: Err(problem),
    }
}
