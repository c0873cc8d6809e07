//! `GET /audit`: filters by actor, target, action and time, newest first, paged with `_l`/`_sk`.

use serde_json::{json, Value};

use super::records;
use crate::helpers::{assert_error, temp_data_dir, TestApp};

fn targets(records: &[Value]) -> Vec<&str> {
    records.iter().map(|r| r["target"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn get_audit_filters_by_actor_target_action_and_time_newest_first_and_pages() {
    // Arrange: five group creations, by alice (g0, g2, g4) and bob (g1, g3).
    let app = TestApp::embedded(&temp_data_dir()).start().await;
    for i in 0..5 {
        let actor = if i % 2 == 0 { "alice" } else { "bob" };
        let group = json!({"userGroup": format!("g{i}"), "crudSchema": {"type": "object"}});
        let response = app.post_with("/groups/", &group, &[("miauserid", actor)]).await;
        assert_eq!(response.status(), 200);
    }
    let wrong = json!({"username": "eve@example.com", "password": "guess-guess"});
    assert_eq!(app.post_json("/oauth/token", &wrong).await.status(), 401);

    // Act + Assert: filters.
    assert_eq!(targets(&records(&app, "actor=alice").await), ["g4", "g2", "g0"]);
    assert_eq!(targets(&records(&app, "actor=bob").await), ["g3", "g1"]);
    assert_eq!(targets(&records(&app, "target=g3").await), ["g3"]);
    assert_eq!(
        targets(&records(&app, "action=login.failure").await),
        ["eve@example.com"]
    );
    assert_eq!(
        targets(&records(&app, "action=group.create&actor=alice&target=g2").await),
        ["g2"]
    );
    assert!(records(&app, "actor=carol").await.is_empty());

    // Pages of two, newest first.
    let page = |sk: u32| format!("action=group.create&_l=2&_sk={sk}");
    assert_eq!(targets(&records(&app, &page(0)).await), ["g4", "g3"]);
    assert_eq!(targets(&records(&app, &page(2)).await), ["g2", "g1"]);
    assert_eq!(targets(&records(&app, &page(4)).await), ["g0"]);
    assert_eq!(records(&app, "_l=1").await.len(), 1);

    // Time: from and to are inclusive bounds on `at`.
    let all = records(&app, "action=group.create").await;
    let at = |target: &str| {
        let record = all.iter().find(|r| r["target"] == target).unwrap();
        record["at"].as_str().unwrap().to_owned()
    };
    let (g1, g3) = (at("g1"), at("g3"));
    let window = records(&app, &format!("action=group.create&from={g1}&to={g3}")).await;
    let found = targets(&window);
    for inside in ["g1", "g2", "g3"] {
        assert!(found.contains(&inside), "{inside} in {found:?}");
    }
    assert!(window
        .iter()
        .all(|r| r["at"].as_str().unwrap() >= g1.as_str() && r["at"].as_str().unwrap() <= g3.as_str()));
    let later = records(&app, "from=2999-01-01T00:00:00Z").await;
    assert!(later.is_empty());
    let earlier = records(&app, "to=2000-01-01T00:00:00%2B01:00").await;
    assert!(earlier.is_empty());
}

#[tokio::test]
async fn get_audit_refuses_bad_parameters_by_name() {
    let app = TestApp::embedded(&temp_data_dir()).start().await;
    for (query, named) in [
        ("from=yesterday", "from"),
        ("_l=0", "_l"),
        ("_l=201", "_l"),
        ("_sk=-1", "_sk"),
        ("actor=a&actor=b", "actor"),
        ("_q=%7B%7D", "_q"),
    ] {
        let response = app.get(&format!("/audit?{query}")).await;
        assert_error(response, 400, named).await;
    }
}
