//! Unit tests of the export formats: `Accept` negotiation, line splitting, JSON and CSV output
//! (a proptest reads CSV back with the csv crate), Excel limits.

use bytes::Bytes;
use futures::StreamExt;
use proptest::prelude::*;
use serde_json::json;

use super::lines::{csv, json_array};
use super::*;

fn source(chunks: &[&str]) -> ExportStream {
    let chunks: Vec<Result<Bytes, StoreError>> =
        chunks.iter().map(|c| Ok(Bytes::from(c.to_string()))).collect();
    Box::pin(futures::stream::iter(chunks))
}

async fn collect(stream: ExportStream) -> String {
    let parts: Vec<_> = stream.collect().await;
    let bytes: Vec<u8> = parts.into_iter().flat_map(|p| p.unwrap().to_vec()).collect();
    String::from_utf8(bytes).unwrap()
}

#[test]
fn accept_picks_the_highest_q_then_the_first() {
    let pick = |h: &str| ExportFormat::negotiate(Some(h));
    assert_eq!(ExportFormat::negotiate(None), Ok(ExportFormat::Ndjson));
    assert_eq!(pick(""), Ok(ExportFormat::Ndjson));
    assert_eq!(pick("*/*"), Ok(ExportFormat::Ndjson));
    assert_eq!(pick("text/csv"), Ok(ExportFormat::Csv));
    assert_eq!(
        pick("application/json;q=0.5, text/csv;q=0.9"),
        Ok(ExportFormat::Csv)
    );
    assert_eq!(pick("text/csv;q=0.2,application/json"), Ok(ExportFormat::Json));
    assert_eq!(pick("application/json, text/csv"), Ok(ExportFormat::Json));
    assert_eq!(pick("application/vnd.ms-excel"), Ok(ExportFormat::Excel));
    assert_eq!(pick(XLSX), Ok(ExportFormat::Excel));
    assert_eq!(pick("text/html, text/csv;q=0.1"), Err("text/html".to_owned()));
}

#[test]
fn export_opts_take_a_one_character_delimiter() {
    assert_eq!(CsvOptions::parse(None), Ok(CsvOptions { delimiter: b',' }));
    assert_eq!(
        CsvOptions::parse(Some(r#"{"delimiter":";"}"#)),
        Ok(CsvOptions { delimiter: b';' })
    );
    assert_eq!(
        CsvOptions::parse(Some(r#"{"escape":"\\"}"#)),
        Ok(CsvOptions::default())
    );
    assert!(CsvOptions::parse(Some("nope"))
        .unwrap_err()
        .contains("JSON object"));
    assert!(CsvOptions::parse(Some(r#"{"delimiter":";;"}"#))
        .unwrap_err()
        .contains("one ASCII"));
}

#[test]
fn projection_columns_put_the_id_first() {
    let cols = Columns::of_projection(&["name".into(), "a.b".into()]);
    assert_eq!(cols.names(), ["_id", "name", "a.b"]);
    let user = json!({"_id": "1", "a": {"b": 2}}).as_object().unwrap().clone();
    assert_eq!(Columns::value(&user, "a.b"), Some(&json!(2)));
    assert_eq!(Columns::value(&user, "name"), None);
}

#[tokio::test]
async fn lines_cut_between_chunks_come_out_whole() {
    let batches: Vec<_> = lines::lines(source(&["{\"a\":", "1}\n\n{\"b\"", ":2}"]))
        .collect()
        .await;
    let lines: Vec<Bytes> = batches.into_iter().flat_map(|b| b.unwrap()).collect();
    assert_eq!(lines, [Bytes::from("{\"a\":1}"), Bytes::from("{\"b\":2}")]);
}

#[tokio::test]
async fn json_is_one_array_even_when_empty() {
    let out = collect(json_array(source(&["{\"a\":1}\n{\"a\"", ":2}\n"]))).await;
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap(),
        json!([{"a": 1}, {"a": 2}])
    );
    assert_eq!(collect(json_array(source(&[]))).await, "[]");
}

#[tokio::test]
async fn csv_writes_the_first_users_keys_and_nested_values_as_json() {
    let ndjson = "{\"_id\":\"1\",\"name\":\"a;b\",\"tags\":[\"x\"],\"n\":3,\"ok\":true,\"gone\":null}\n\
                  {\"_id\":\"2\",\"extra\":1}\n";
    let out = collect(csv(source(&[ndjson]), None, CsvOptions { delimiter: b';' })).await;
    assert_eq!(
        out,
        "_id;name;tags;n;ok;gone\n1;\"a;b\";\"[\"\"x\"\"]\";3;true;\n2;;;;;\n"
    );
}

#[tokio::test]
async fn csv_with_projected_columns_and_no_users_is_the_header() {
    let cols = Columns::of_projection(&["name".into()]);
    assert_eq!(
        collect(csv(source(&[]), Some(cols), CsvOptions::default())).await,
        "_id,name\n"
    );
    assert_eq!(collect(csv(source(&[]), None, CsvOptions::default())).await, "");
}

#[tokio::test]
async fn excel_is_a_zip_workbook() {
    let out = transform(
        ExportFormat::Excel,
        source(&["{\"_id\":\"1\",\"n\":2}\n"]),
        None,
        CsvOptions::default(),
    )
    .await
    .unwrap();
    let parts: Vec<_> = out.collect().await;
    let bytes: Vec<u8> = parts.into_iter().flat_map(|p| p.unwrap().to_vec()).collect();
    assert!(bytes.starts_with(b"PK"), "an xlsx is a zip file");
}

#[tokio::test]
async fn excel_refuses_a_value_longer_than_a_cell() {
    let long = format!("{{\"_id\":\"{}\"}}\n", "x".repeat(40_000));
    let error = transform(ExportFormat::Excel, source(&[&long]), None, CsvOptions::default())
        .await
        .err()
        .unwrap();
    assert!(error.to_string().contains("export as CSV"), "{error}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn csv_reads_back_into_the_same_rows(
        rows in proptest::collection::vec(proptest::collection::vec(any::<String>(), 3), 1..6),
        delimiter in prop::sample::select(vec![b',', b';', b'\t', b'|']),
    ) {
        let ndjson: String = rows
            .iter()
            .map(|r| format!("{}\n", json!({"a": r[0], "b": r[1], "c": r[2]})))
            .collect();
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let out = runtime.block_on(collect(csv(source(&[&ndjson]), None, CsvOptions { delimiter })));
        let mut reader = ::csv::ReaderBuilder::new().delimiter(delimiter).from_reader(out.as_bytes());
        prop_assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), vec!["a", "b", "c"]);
        let read: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect();
        prop_assert_eq!(read, rows);
    }
}
