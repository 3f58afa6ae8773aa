//! Given events, when projected, then these notifications: lanes, seqs
//! and recipients, with no server (an in-memory document store).

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use events::friend::{BlackAdded, FriendRequested};
use events::group::{GroupCreated, GroupMemberJoined, GroupMemberKicked, ROLE_ADMIN, ROLE_MEMBER, ROLE_OWNER};
use events::{DomainEvent, Envelope, EventMeta, StreamKey};
use futures::executor::block_on;
use serde_json::Value;

use super::kinds::*;
use super::*;
use crate::{project, Batch, Change};

const TENANT: &str = "1000";

#[derive(Default)]
struct Memory {
    docs: Mutex<BTreeMap<(String, String), Value>>,
    versions: Mutex<BTreeMap<String, u64>>,
    position: Mutex<u64>,
}

#[async_trait]
impl DocSource for Memory {
    async fn get(&self, collection: &str, id: &str) -> Result<Option<Value>, StoreError> {
        let docs = self.docs.lock().unwrap();
        Ok(docs.get(&(collection.to_owned(), id.to_owned())).cloned())
    }

    async fn scan_prefix(&self, collection: &str, prefix: &str) -> Result<Vec<Value>, StoreError> {
        self.scan_after(collection, prefix, None, usize::MAX).await
    }

    async fn scan_after(
        &self,
        collection: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Value>, StoreError> {
        let docs = self.docs.lock().unwrap();
        let after = after.map(|a| format!("{prefix}{a}"));
        Ok(docs
            .iter()
            .filter(|((c, id), _)| c == collection && id.starts_with(prefix) && !id[prefix.len()..].contains(':'))
            .filter(|((_, id), _)| after.as_ref().is_none_or(|a| id > a))
            .take(limit)
            .map(|(_, doc)| doc.clone())
            .collect())
    }
}

impl Memory {
    /// Projects one command's events, decided in `stream` by `actor`.
    fn given(&self, stream: StreamKey, actor: &str, events: Vec<DomainEvent>) -> &Self {
        let meta = EventMeta {
            tenant_id: TENANT.into(),
            actor_user_id: actor.into(),
            operation_id: format!("op-{}", *self.position.lock().unwrap()),
            occurred_at: 1_700_000_000_000,
        };
        for event in events {
            let key = stream.to_string();
            let version = {
                let mut versions = self.versions.lock().unwrap();
                let v = versions.entry(key.clone()).or_default();
                *v += 1;
                *v
            };
            let mut envelope = Envelope::new(uuid::Uuid::now_v7(), key, version, &meta, &event);
            envelope.log_position = {
                let mut p = self.position.lock().unwrap();
                *p += 1;
                *p
            };
            let changes = block_on(async {
                let mut batch = Batch::new(self);
                project(&envelope, &event, &mut batch).await.unwrap();
                batch.into_changes()
            });
            let mut docs = self.docs.lock().unwrap();
            for change in changes {
                match change {
                    Change::Put { collection, id, doc } => docs.insert((collection.to_owned(), id), doc),
                    Change::Delete { collection, id } => docs.remove(&(collection.to_owned(), id)),
                };
            }
        }
        self
    }

    /// `user`'s notification conversation: the contentTypes it sees, by seq.
    fn seen(&self, user: &str, conversation: &str) -> Vec<(u64, i32)> {
        block_on(async {
            let only = [conversation.to_owned()];
            let views = conversations(self, TENANT, user, Some(&only)).await.unwrap();
            let Some(view) = views.first() else { return Vec::new() };
            let seqs: Vec<u64> = (view.first..=view.last).collect();
            let found = notifications(self, TENANT, &view.membership.lane, &seqs).await.unwrap();
            found.iter().map(|m| (m.seq, m.content_type)).collect()
        })
    }
}

fn requested(from: &str, to: &str) -> DomainEvent {
    DomainEvent::FriendRequested(FriendRequested {
        from_user_id: from.into(),
        to_user_id: to.into(),
        req_msg: String::new(),
        ex: String::new(),
        create_time: 0,
    })
}

fn black(owner: &str, black: &str) -> DomainEvent {
    DomainEvent::BlackAdded(BlackAdded {
        owner_user_id: owner.into(),
        black_user_id: black.into(),
        ex: String::new(),
        add_source: 0,
        operator_user_id: owner.into(),
        create_time: 0,
    })
}

fn created(group: &str, owner: &str, members: &[&str]) -> DomainEvent {
    DomainEvent::GroupCreated(GroupCreated {
        group_id: group.into(),
        group_name: group.into(),
        notification: String::new(),
        introduction: String::new(),
        face_url: String::new(),
        ex: String::new(),
        group_type: 2,
        need_verification: 2,
        look_member_info: 0,
        apply_member_friend: 0,
        owner_user_id: owner.into(),
        creator_user_id: owner.into(),
        create_time: 0,
        member_user_ids: members.iter().map(|m| (*m).to_owned()).collect(),
    })
}

fn joined(group: &str, user: &str, role_level: i32, inviter: &str) -> DomainEvent {
    DomainEvent::GroupMemberJoined(GroupMemberJoined {
        group_id: group.into(),
        user_id: user.into(),
        role_level,
        join_source: if inviter.is_empty() { 3 } else { 2 },
        inviter_user_id: inviter.into(),
        operator_user_id: user.into(),
        ex: String::new(),
        join_time: 0,
    })
}

#[test]
fn each_user_of_a_pair_has_its_own_dense_line_and_a_blacklisting_is_the_owners_only() {
    let store = Memory::default();
    let pair = StreamKey::pair(TENANT, "alice", "bob");
    store
        .given(pair.clone(), "alice", vec![requested("alice", "bob")])
        .given(pair.clone(), "bob", vec![black("bob", "alice")])
        .given(pair, "alice", vec![requested("alice", "bob")]);
    assert_eq!(
        store.seen("alice", "n_alice_bob"),
        [(1, FRIEND_APPLICATION), (2, FRIEND_APPLICATION)]
    );
    assert_eq!(
        store.seen("bob", "n_alice_bob"),
        [(1, FRIEND_APPLICATION), (2, BLACK_ADDED), (3, FRIEND_APPLICATION)]
    );
    assert!(store.seen("carol", "n_alice_bob").is_empty());
}

#[test]
fn initial_members_see_the_creation_and_a_later_one_from_its_entry_to_its_kick() {
    let store = Memory::default();
    let group = StreamKey::group(TENANT, "g1");
    store
        .given(
            group.clone(),
            "owner",
            vec![
                created("g1", "owner", &["owner", "admin"]),
                joined("g1", "owner", ROLE_OWNER, "owner"),
                joined("g1", "admin", ROLE_ADMIN, "owner"),
            ],
        )
        .given(group.clone(), "late", vec![joined("g1", "late", ROLE_MEMBER, "")]);
    let kicked = DomainEvent::GroupMemberKicked(GroupMemberKicked {
        group_id: "g1".into(),
        user_id: "late".into(),
        operator_user_id: "owner".into(),
        reason: String::new(),
    });
    store.given(group.clone(), "owner", vec![kicked]).given(
        group,
        "admin",
        vec![joined("g1", "later", ROLE_MEMBER, "admin")],
    );
    let all = [
        (1, GROUP_CREATED),
        (2, MEMBER_ENTER),
        (3, MEMBER_KICKED),
        (4, MEMBER_INVITED),
    ];
    assert_eq!(store.seen("owner", "n_g1"), all);
    assert_eq!(store.seen("admin", "n_g1"), all);
    assert_eq!(store.seen("late", "n_g1"), all[1..3]);
    assert_eq!(store.seen("later", "n_g1"), all[3..]);
    // The creation notice names both initial members and counts them.
    let created = block_on(notifications(&store, TENANT, "n_g1", &[1])).unwrap();
    let detail: Value = serde_json::from_str(created[0].content["detail"].as_str().unwrap()).unwrap();
    assert_eq!(detail["memberUserIDs"], serde_json::json!(["owner", "admin"]));
    assert_eq!(detail["group"]["memberCount"], 2);
}

#[test]
fn a_join_right_after_the_creation_is_told_as_its_own_notice() {
    let store = Memory::default();
    let group = StreamKey::group(TENANT, "g1");
    store
        .given(
            group.clone(),
            "owner",
            vec![
                created("g1", "owner", &["owner"]),
                joined("g1", "owner", ROLE_OWNER, "owner"),
            ],
        )
        .given(group, "owner", vec![joined("g1", "carol", ROLE_MEMBER, "owner")]);
    assert_eq!(store.seen("owner", "n_g1"), [(1, GROUP_CREATED), (2, MEMBER_INVITED)]);
    assert_eq!(store.seen("carol", "n_g1"), [(2, MEMBER_INVITED)]);
}

#[test]
fn a_group_named_like_a_pair_keeps_its_own_line() {
    let store = Memory::default();
    store
        .given(
            StreamKey::pair(TENANT, "alice", "bob"),
            "alice",
            vec![requested("alice", "bob")],
        )
        .given(
            StreamKey::group(TENANT, "alice_bob"),
            "carol",
            vec![
                created("alice_bob", "carol", &["carol"]),
                joined("alice_bob", "carol", ROLE_OWNER, "carol"),
            ],
        );
    assert_eq!(store.seen("alice", "n_alice_bob"), [(1, FRIEND_APPLICATION)]);
    assert_eq!(store.seen("carol", "ng_alice_bob"), [(1, GROUP_CREATED)]);
    assert!(store.seen("alice", "ng_alice_bob").is_empty());
}
