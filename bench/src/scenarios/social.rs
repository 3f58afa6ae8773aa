//! `social`: N users; first G groups are created (anyone may join them
//! directly), then for --duration: friend requests, each accepted by its
//! recipient, over the edges of a random graph, and joins of random users
//! to random groups (two friendships for each join). The edges and joins
//! are drawn without repetition, so no command is refused; the app admin
//! acts for the users, except that a join is the user's own (its token).

use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;

use super::{Ctx, Outcome};
use crate::client::Result;
use crate::load::{closed_loop, each, UNTIL_DONE};
use crate::server::CpuMeter;
use crate::stats::{Figure, Latencies};

/// At most this many friend edges and joins are drawn.
const DRAWN: usize = 2_000_000;

pub async fn run(ctx: &Ctx) -> Result<Outcome> {
    let n = ctx.sizes.social_users.max(2);
    let users = Arc::new(ctx.register("s", n).await?);
    let tokens = Arc::new(each(users.iter(), ctx.concurrency, |u| ctx.tokens.user(&ctx.api, u)).await?);
    let groups = Arc::new(ctx.ids("g", ctx.sizes.social_groups.max(1)));
    let owner = move |group: usize| group % n;

    let created = Arc::new(Latencies::default());
    let (api, admin, recorded) = (ctx.api.clone(), ctx.tokens.admin.clone(), created.clone());
    let (all_users, all_groups) = (users.clone(), groups.clone());
    let creating = closed_loop(ctx.concurrency, UNTIL_DONE, move |i| {
        let (api, admin, users, groups, recorded) = (
            api.clone(),
            admin.clone(),
            all_users.clone(),
            all_groups.clone(),
            recorded.clone(),
        );
        async move {
            let Some(group) = groups.get(i as usize) else {
                return Ok(false);
            };
            let body = json!({"ownerUserID": users[owner(i as usize)],
                "groupInfo": {"groupID": group, "groupName": "social", "groupType": 2, "needVerification": 2}});
            recorded
                .time("create_group", api.post("/group/create_group", Some(&admin), &body))
                .await?;
            Ok(true)
        }
    })
    .await?;

    let (edges, joins, flips) = {
        let mut rng = rand::thread_rng();
        let edges = distinct(n * n, |k| k / n < k % n, &mut rng);
        let joins = distinct(groups.len() * n, |k| k % n != owner(k / n), &mut rng);
        let flips: Vec<bool> = (0..edges.len()).map(|_| rng.gen()).collect();
        (Arc::new(edges), Arc::new(joins), Arc::new(flips))
    };

    let cpu = CpuMeter::start(ctx.server_pid);
    let mixed = Arc::new(Latencies::default());
    let (api, admin, recorded) = (ctx.api.clone(), ctx.tokens.admin.clone(), mixed.clone());
    let mixing = closed_loop(ctx.concurrency, ctx.duration, move |i| {
        let (api, admin, users, tokens, groups, edges, joins, flips, recorded) = (
            api.clone(),
            admin.clone(),
            users.clone(),
            tokens.clone(),
            groups.clone(),
            edges.clone(),
            joins.clone(),
            flips.clone(),
            recorded.clone(),
        );
        async move {
            let i = i as usize;
            if i % 3 == 2 {
                let Some(&k) = joins.get(i / 3) else { return Ok(false) };
                let (group, user) = (&groups[k / n], k % n);
                let body = json!({"groupID": group, "joinSource": 3});
                let join = api.post("/group/join_group", Some(&tokens[user]), &body);
                recorded.time("join_group", join).await?;
            } else {
                let Some(&k) = edges.get(i / 3 * 2 + i % 3) else {
                    return Ok(false);
                };
                let (mut from, mut to) = (&users[k / n], &users[k % n]);
                if flips[i / 3 * 2 + i % 3] {
                    std::mem::swap(&mut from, &mut to);
                }
                let body = json!({"fromUserID": from, "toUserID": to, "reqMsg": "hi"});
                let request = api.post("/friend/add_friend", Some(&admin), &body);
                recorded.time("add_friend", request).await?;
                let body = json!({"fromUserID": from, "toUserID": to, "handleResult": 1});
                let accept = api.post("/friend/add_friend_response", Some(&admin), &body);
                recorded.time("add_friend_response", accept).await?;
            }
            Ok(true)
        }
    })
    .await?;

    let mut figures = vec![Figure::rate(
        "social",
        "commands_per_s",
        created.count() + mixed.count(),
        creating + mixing,
    )];
    figures.extend(created.figures("social", creating));
    figures.extend(mixed.figures("social", mixing));
    figures.extend(cpu.figures("social"));
    Ok(figures.into())
}

/// Up to `DRAWN` distinct indexes of `0..total` that `keep`, in random
/// order.
fn distinct(total: usize, keep: impl Fn(usize) -> bool, rng: &mut impl Rng) -> Vec<usize> {
    let mut drawn: Vec<usize> = if total <= 2 * DRAWN {
        (0..total).filter(|k| keep(*k)).collect()
    } else {
        let mut seen = HashSet::new();
        while seen.len() < DRAWN {
            let k = rng.gen_range(0..total);
            if keep(k) {
                seen.insert(k);
            }
        }
        seen.into_iter().collect()
    };
    drawn.shuffle(rng);
    drawn.truncate(DRAWN);
    drawn
}
