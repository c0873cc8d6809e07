//! Physical lines of the decoded file, ended by `\n`, `\r\n` or `\r` (as the `csv` crate reads
//! them), numbered from 1 (the header line included). A line longer than the limit is not kept:
//! the rest of it is read and dropped, and the line is marked too long, so that memory stays
//! bounded whatever the file holds.

use std::io::{self, BufRead};

/// How a line ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineEnd {
    /// At the end of the file, without a line break.
    Eof,
    /// `\n`.
    Lf,
    /// `\r\n`.
    CrLf,
    /// `\r` alone.
    Cr,
}

impl LineEnd {
    /// The line break as written.
    pub fn bytes(self) -> &'static [u8] {
        match self {
            Self::Eof => b"",
            Self::Lf => b"\n",
            Self::CrLf => b"\r\n",
            Self::Cr => b"\r",
        }
    }
}

/// One physical line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// Its number: 1 is the first line of the file.
    pub number: u64,
    /// Its bytes without the line break (empty when `too_long`).
    pub text: Vec<u8>,
    /// Its line break.
    pub end: LineEnd,
    /// The line was longer than the limit: its text was dropped.
    pub too_long: bool,
}

impl Line {
    /// Bytes of the line with its line break (for a line too long, one more than the limit).
    pub fn len(&self, max_bytes: usize) -> usize {
        if self.too_long {
            return max_bytes.saturating_add(1);
        }
        self.text.len() + self.end.bytes().len()
    }
}

/// Reads the lines of `source`, keeping at most `max_bytes` bytes of each.
pub struct LineReader<R> {
    source: R,
    max_bytes: usize,
    number: u64,
}

impl<R: BufRead> LineReader<R> {
    /// Lines of `source`, each kept up to `max_bytes` bytes.
    pub fn new(source: R, max_bytes: usize) -> Self {
        Self {
            source,
            max_bytes,
            number: 0,
        }
    }

    /// The next line; `None` at the end of the file. A source error (an aborted upload) is
    /// returned as is: the cut-off line is never returned.
    pub fn next_line(&mut self) -> io::Result<Option<Line>> {
        let mut text = Vec::new();
        let mut too_long = false;
        let mut started = false;
        let end = loop {
            let buffer = self.source.fill_buf()?;
            if buffer.is_empty() {
                if !started {
                    return Ok(None);
                }
                break LineEnd::Eof;
            }
            started = true;
            let found = buffer.iter().position(|b| matches!(b, b'\n' | b'\r'));
            let taken = found.unwrap_or(buffer.len());
            if !too_long && text.len() + taken <= self.max_bytes {
                text.extend_from_slice(&buffer[..taken]);
            } else if !too_long {
                too_long = true;
                text = Vec::new();
            }
            let Some(at) = found else {
                self.source.consume(taken);
                continue;
            };
            let byte = buffer[at];
            self.source.consume(at + 1);
            if byte == b'\n' {
                break LineEnd::Lf;
            }
            break if self.source.fill_buf()?.first() == Some(&b'\n') {
                self.source.consume(1);
                LineEnd::CrLf
            } else {
                LineEnd::Cr
            };
        };
        self.number += 1;
        Ok(Some(Line {
            number: self.number,
            text,
            end,
            too_long,
        }))
    }
}
