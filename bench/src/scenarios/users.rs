//! `users`: self_register then self_login of N users, --concurrency at a
//! time (each an argon2id hash or verification on the server: this is what
//! it costs), then profile updates (update_user_info_ex by the app admin,
//! the cheapest command) for --duration.

use std::sync::Arc;
use std::time::Instant;

use serde_json::json;

use super::{Ctx, Outcome};
use crate::auth;
use crate::client::Result;
use crate::load::{closed_loop, each};
use crate::stats::Latencies;

pub async fn run(ctx: &Ctx) -> Result<Outcome> {
    let ids = Arc::new(ctx.ids("u", ctx.sizes.users.max(1)));
    let mut figures = Vec::new();

    let registered = Latencies::default();
    let started = Instant::now();
    each(ids.iter(), ctx.concurrency, |id| {
        registered.time("register", auth::register(&ctx.api, id))
    })
    .await?;
    figures.extend(registered.figures("users", started.elapsed()));

    let logged_in = Latencies::default();
    let started = Instant::now();
    each(ids.iter(), ctx.concurrency, |id| {
        logged_in.time("login", auth::login(&ctx.api, id))
    })
    .await?;
    figures.extend(logged_in.figures("users", started.elapsed()));

    let updated = Arc::new(Latencies::default());
    let (api, tokens, recorded) = (ctx.api.clone(), ctx.tokens.clone(), updated.clone());
    let elapsed = closed_loop(ctx.concurrency, ctx.duration, move |i| {
        let (api, tokens, ids, recorded) = (api.clone(), tokens.clone(), ids.clone(), recorded.clone());
        async move {
            let user = &ids[i as usize % ids.len()];
            let body = json!({"userInfo": {"userID": user, "nickname": format!("nick {i}")}});
            let update = api.post("/user/update_user_info_ex", Some(&tokens.admin), &body);
            recorded.time("update", update).await?;
            Ok(true)
        }
    })
    .await?;
    figures.extend(updated.figures("users", elapsed));
    Ok(figures.into())
}
