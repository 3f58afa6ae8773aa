//! `read`: N users, each the friend of the 20 nearest on a ring (10 each
//! side) and in a one-to-one conversation with each of them, all members of
//! one group with a message; then, for --duration each, the app admin reads
//! a random user's friend list (first 100), the group's member list (first
//! 100) and a random user's conversation list (first 20).

use std::sync::Arc;

use rand::Rng;
use serde_json::{json, Value};

use super::{Ctx, Outcome};
use crate::client::Result;
use crate::load::{closed_loop, each};
use crate::stats::Latencies;

/// Neighbours on each side of the ring.
const SIDE: usize = 10;

/// The list a query reads.
#[derive(Clone, Copy)]
enum List {
    Friends,
    Members,
    Conversations,
}

impl List {
    fn label(self) -> &'static str {
        match self {
            List::Friends => "friend_list",
            List::Members => "member_list",
            List::Conversations => "conversation_list",
        }
    }

    fn request(self, user: &str, group: &str) -> (&'static str, Value) {
        match self {
            List::Friends => (
                "/friend/get_friend_list",
                json!({"userID": user, "pagination": {"pageNumber": 1, "showNumber": 100}}),
            ),
            List::Members => (
                "/group/get_group_member_list",
                json!({"groupID": group, "pagination": {"pageNumber": 1, "showNumber": 100}}),
            ),
            List::Conversations => (
                "/conversation/get_sorted_conversation_list",
                json!({"userID": user, "pagination": {"pageNumber": 1, "showNumber": 20}}),
            ),
        }
    }
}

pub async fn run(ctx: &Ctx) -> Result<Outcome> {
    let n = ctx.sizes.read_users.max(3);
    let users = Arc::new(ctx.register("r", n).await?);
    let admin = ctx.tokens.admin.as_str();
    let side = SIDE.min((n - 1) / 2).max(1);
    let neighbours: Vec<(&String, &String)> = (0..n)
        .flat_map(|i| (1..=side).map(move |d| (i, (i + d) % n)))
        .filter(|(a, b)| a != b)
        .map(|(a, b)| (&users[a], &users[b]))
        .collect();
    // A request each way: the second finds the first pending and makes
    // them friends.
    each(&neighbours, ctx.concurrency, |(a, b)| async move {
        for (from, to) in [(a, b), (b, a)] {
            let body = json!({"fromUserID": from, "toUserID": to});
            ctx.api.post("/friend/add_friend", Some(admin), &body).await?;
        }
        let body = json!({"sendID": a, "recvID": b, "sessionType": 1, "contentType": 101,
            "content": {"content": "hello"}});
        ctx.api.post("/msg/send_msg", Some(admin), &body).await.map(drop)
    })
    .await?;
    let group = Arc::new(format!("{}read", ctx.prefix));
    ctx.create_group(&group, &users).await?;
    let body = json!({"sendID": users[0], "groupID": *group, "sessionType": 3, "contentType": 101,
        "content": {"content": "hello all"}});
    ctx.api.post("/msg/send_msg", Some(admin), &body).await?;

    let mut figures = Vec::new();
    for list in [List::Friends, List::Members, List::Conversations] {
        let latencies = Arc::new(Latencies::default());
        let (api, tokens, users, group, recorded) = (
            ctx.api.clone(),
            ctx.tokens.clone(),
            users.clone(),
            group.clone(),
            latencies.clone(),
        );
        let elapsed = closed_loop(ctx.concurrency, ctx.duration, move |_| {
            let (api, tokens, recorded) = (api.clone(), tokens.clone(), recorded.clone());
            let user = &users[rand::thread_rng().gen_range(0..users.len())];
            let (path, body) = list.request(user, &group);
            async move {
                recorded
                    .time(list.label(), api.post(path, Some(&tokens.admin), &body))
                    .await?;
                Ok(true)
            }
        })
        .await?;
        figures.extend(latencies.figures("read", elapsed));
    }
    Ok(figures.into())
}
