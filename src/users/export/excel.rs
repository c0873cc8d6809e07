//! The Excel export: rust_xlsxwriter in constant-memory mode writes each row to its own
//! temporary file as it comes, then the workbook (a zip) is written to an unlinked temporary
//! file and streamed from there. Memory holds a row and the zip writer's buffers, not the users.

use std::io::{Seek, SeekFrom};

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use rust_xlsxwriter::{Workbook, Worksheet, XlsxError};
use serde_json::Value;
use tokio::sync::mpsc;

use super::{cell_text, lines, Columns, ExportError};
use crate::store::{ExportStream, StoreError};

/// How many users one sheet holds: Excel's 1,048,576 rows, less the header.
pub const MAX_ROWS: u32 = 1_048_575;

/// The workbook of `source`, once every user is written, as a stream of the file's bytes.
pub async fn workbook(source: ExportStream, columns: Option<Columns>) -> Result<ExportStream, ExportError> {
    let (sender, receiver) = mpsc::channel::<Vec<Bytes>>(4);
    let writer = tokio::task::spawn_blocking(move || write(receiver, columns));
    let mut batches = std::pin::pin!(lines::lines(source));
    let mut failure = None;
    while let Some(batch) = batches.next().await {
        match batch {
            // A closed channel means the writer stopped: its error is read below.
            Ok(batch) => {
                if sender.send(batch).await.is_err() {
                    break;
                }
            }
            Err(error) => {
                failure = Some(error);
                break;
            }
        }
    }
    drop(sender);
    let written = writer
        .await
        .map_err(|e| ExportError::Internal(format!("the workbook writer stopped: {e}")))?;
    if let Some(error) = failure {
        return Err(error.into());
    }
    let file = tokio::fs::File::from_std(written?);
    let bytes = tokio_util::io::ReaderStream::new(file)
        .map_err(|e| StoreError::Invalid(format!("cannot read the Excel export back: {e}")));
    Ok(Box::pin(bytes))
}

/// Writes every batch `receiver` gets as rows, then the workbook to a temporary file, rewound.
fn write(
    mut receiver: mpsc::Receiver<Vec<Bytes>>,
    columns: Option<Columns>,
) -> Result<std::fs::File, ExportError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet_with_constant_memory();
    let mut columns = columns;
    if let Some(known) = &columns {
        header(sheet, known)?;
    }
    let mut row: u32 = 1;
    while let Some(batch) = receiver.blocking_recv() {
        for line in batch {
            let user = lines::parse_user(&line)?;
            let known = match &columns {
                Some(known) => known,
                None => {
                    let first = Columns::of(&user);
                    header(sheet, &first)?;
                    columns.insert(first)
                }
            };
            if row > MAX_ROWS {
                return Err(ExportError::Invalid(format!(
                    "more than {MAX_ROWS} users match, the most an Excel sheet holds: narrow the filter \
                     or export as CSV (Accept: text/csv)"
                )));
            }
            for (col, name) in (0u16..).zip(known.names()) {
                cell(sheet, row, col, Columns::value(&user, name))?;
            }
            row += 1;
        }
    }
    let mut file = tempfile::tempfile().map_err(|e| ExportError::Internal(e.to_string()))?;
    workbook.save_to_writer(&mut file).map_err(xlsx_error)?;
    file.seek(SeekFrom::Start(0))
        .map_err(|e| ExportError::Internal(e.to_string()))?;
    Ok(file)
}

fn header(sheet: &mut Worksheet, columns: &Columns) -> Result<(), ExportError> {
    for (col, name) in (0u16..).zip(columns.names()) {
        sheet.write_string(0, col, name).map_err(xlsx_error)?;
    }
    Ok(())
}

/// One cell: numbers and booleans typed, `null` and missing empty, the rest as `cell_text`.
fn cell(sheet: &mut Worksheet, row: u32, col: u16, value: Option<&Value>) -> Result<(), ExportError> {
    let written = match value {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Bool(flag)) => sheet.write_boolean(row, col, *flag),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(number) => sheet.write_number(row, col, number),
            None => sheet.write_string(row, col, n.to_string()),
        },
        Some(other) => sheet.write_string(row, col, cell_text(Some(other))),
    };
    written.map(|_| ()).map_err(xlsx_error)
}

fn xlsx_error(error: XlsxError) -> ExportError {
    match error {
        XlsxError::MaxStringLengthExceeded => ExportError::Invalid(
            "a value is longer than 32,767 characters, the most an Excel cell holds: export as CSV \
             (Accept: text/csv)"
                .to_owned(),
        ),
        XlsxError::RowColumnLimitError => ExportError::Invalid(
            "the export has more columns than an Excel sheet holds (16,384): choose them with _p or \
             export as CSV (Accept: text/csv)"
                .to_owned(),
        ),
        other => ExportError::Internal(other.to_string()),
    }
}
