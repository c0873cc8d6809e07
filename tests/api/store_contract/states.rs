//! The `__STATE__` machine: `POST /:id/state` transitions and `POST /state` source states.

use serde_json::{json, Map};
use user_manager_service::store::{DocState, Filter, StateChange};

use super::*;

async fn state_of(store: &Store, id: &str) -> String {
    stored(store, id).await.unwrap()["__STATE__"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub async fn set_state_follows_the_transition_table_and_refuses_others_with_400(store: Store) {
    let ids = seed(&store, &[json!({"name": "a"})]).await;
    let id = &ids[0];
    let users = &store.users;
    let any = Filter::default();

    let err = users
        .set_state(&ctx(), id, &any, DocState::Deleted)
        .await
        .unwrap_err();
    assert_eq!(rejected(err), "transition from PUBLIC to DELETED not allowed.");
    assert_eq!(state_of(&store, id).await, "PUBLIC");

    assert_eq!(users.set_state(&ctx(), id, &any, DocState::Trash).await, Ok(true));
    let err = users
        .set_state(&ctx(), id, &any, DocState::Public)
        .await
        .unwrap_err();
    assert_eq!(rejected(err), "transition from TRASH to PUBLIC not allowed.");
    assert_eq!(users.set_state(&ctx(), id, &any, DocState::Trash).await, Ok(true));
    assert_eq!(
        users.set_state(&ctx(), id, &any, DocState::Deleted).await,
        Ok(true)
    );
    assert_eq!(state_of(&store, id).await, "DELETED");
    let err = users
        .set_state(&ctx(), id, &any, DocState::Draft)
        .await
        .unwrap_err();
    assert_eq!(rejected(err), "transition from DELETED to DRAFT not allowed.");
    assert_eq!(users.set_state(&ctx(), id, &any, DocState::Trash).await, Ok(true));
    assert_eq!(users.set_state(&ctx(), id, &any, DocState::Draft).await, Ok(true));
    assert_eq!(
        users.set_state(&ctx(), id, &any, DocState::Public).await,
        Ok(true)
    );
    assert_eq!(state_of(&store, id).await, "PUBLIC");
    assert_eq!(stored(&store, id).await.unwrap()["updaterId"], "user-1");
}

pub async fn set_state_ignores_the_current_state_and_answers_false_for_an_unknown_id(store: Store) {
    let draft = store
        .users
        .insert(&ctx(), &json!({"name": "a", "v": 1}))
        .await
        .unwrap();

    let only_public = in_states(&[DocState::Public]);
    assert_eq!(
        store
            .users
            .set_state(&ctx(), &draft, &only_public, DocState::Public)
            .await,
        Ok(true)
    );
    assert_eq!(state_of(&store, &draft).await, "PUBLIC");
    let stale = filter(json!({"v": 2}));
    assert_eq!(
        store
            .users
            .set_state(&ctx(), &draft, &stale, DocState::Trash)
            .await,
        Ok(false)
    );
    assert_eq!(state_of(&store, &draft).await, "PUBLIC");
    let missing = "0123456789abcdef01234567";
    let answer = store
        .users
        .set_state(&ctx(), missing, &Filter::default(), DocState::Trash)
        .await;
    assert_eq!(answer, Ok(false));
}

fn change(filter: Value, to: DocState) -> StateChange {
    let Value::Object(filter) = filter else {
        panic!("a filter object");
    };
    StateChange { filter, state_to: to }
}

pub async fn set_state_many_moves_only_documents_in_a_source_state(store: Store) {
    let mut ids = Vec::new();
    for state in ["PUBLIC", "DRAFT", "TRASH", "DELETED"] {
        let body = json!({"name": state, "group": "g", "__STATE__": state});
        ids.push(store.users.insert(&ctx(), &body).await.unwrap());
    }
    let other = store
        .users
        .insert(&ctx(), &json!({"group": "h", "__STATE__": "PUBLIC"}))
        .await
        .unwrap();

    let to_public = [change(json!({"group": "g"}), DocState::Public)];
    assert_eq!(store.users.set_state_many(&ctx(), &to_public).await, Ok(1));
    assert_eq!(state_of(&store, &ids[1]).await, "PUBLIC");

    let to_trash = [change(json!({"group": "g"}), DocState::Trash)];
    assert_eq!(store.users.set_state_many(&ctx(), &to_trash).await, Ok(3));
    for id in &ids {
        assert_eq!(state_of(&store, id).await, "TRASH");
    }
    assert_eq!(state_of(&store, &other).await, "PUBLIC");

    let one = [
        change(json!({"_id": ids[0]}), DocState::Deleted),
        change(json!({"_id": other}), DocState::Deleted),
    ];
    assert_eq!(store.users.set_state_many(&ctx(), &one).await, Ok(1));
    assert_eq!(state_of(&store, &ids[0]).await, "DELETED");
    assert_eq!(state_of(&store, &other).await, "PUBLIC");
    assert_eq!(store.users.set_state_many(&ctx(), &[]).await, Ok(0));
}

pub async fn set_state_many_on_the_updated_at_read_is_a_compare_and_set(store: Store) {
    let id = store
        .users
        .insert(&ctx(), &json!({"name": "a", "__STATE__": "PUBLIC"}))
        .await
        .unwrap();
    let updated_at = |doc: Option<Value>| doc.unwrap()["updatedAt"].clone();
    let read = updated_at(store.users.get(&ctx(), &id, &Filter::default()).await.unwrap());
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let set_name = json!({"$set": {"name": "b"}});
    let patched = store
        .users
        .patch(&ctx(), &id, &Filter::default(), &set_name)
        .await;
    assert!(patched.unwrap().is_some());
    let now = updated_at(store.users.get(&ctx(), &id, &Filter::default()).await.unwrap());
    assert_ne!(read, now, "a write moves updatedAt");

    let stale = [change(json!({"_id": id, "updatedAt": read}), DocState::Trash)];
    assert_eq!(store.users.set_state_many(&ctx(), &stale).await, Ok(0));
    assert_eq!(state_of(&store, &id).await, "PUBLIC");
    let current = [change(json!({"_id": id, "updatedAt": now}), DocState::Trash)];
    assert_eq!(store.users.set_state_many(&ctx(), &current).await, Ok(1));
    assert_eq!(state_of(&store, &id).await, "TRASH");
}

pub async fn set_state_many_refuses_filter_keys_outside_the_contract(store: Store) {
    seed(&store, &[json!({"name": "a"})]).await;

    let mut q = Map::new();
    q.insert("_q".to_owned(), json!("{}"));
    let items = [StateChange {
        filter: q,
        state_to: DocState::Trash,
    }];
    rejected(store.users.set_state_many(&ctx(), &items).await.unwrap_err());
    let bad_id = [change(json!({"_id": 3}), DocState::Trash)];
    rejected(store.users.set_state_many(&ctx(), &bad_id).await.unwrap_err());
    assert_eq!(names_matching(&store, json!({})).await, ["a"]);
}
