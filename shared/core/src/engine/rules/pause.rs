//! An operator's pause (`qscale pause`): in a paused direction the count
//! does not move, whatever the rules before want; a paused `scheduled`
//! keeps schedules, registered events and the forecast from raising a
//! floor. Every pause has an expiry. Its start and its end (expiry or
//! `qscale resume`) are audited once each; bounds still apply.

use jiff::Timestamp;

use super::context::Context;
use crate::engine::chain::Chain;
use crate::engine::decision::Term;
use crate::engine::state::TargetState;

/// The pause's start or end seen for the first time: marks it in `next`
/// and returns the notice that audits it. An ended pause leaves the state.
pub(in crate::engine) fn notice(next: &mut TargetState, now: Timestamp) -> Option<String> {
    let pause = next.pause.as_mut()?;
    let why = pause
        .reason
        .as_deref()
        .map_or(String::new(), |r| format!(": {r}"));
    if !pause.active(now) {
        let how = if pause.resumed { "resumed" } else { "expired" };
        let notice = format!(
            "pause of {} {how} at {} (paused since {}{why})",
            pause.scope.names(),
            pause.until,
            pause.since
        );
        next.pause = None;
        return Some(notice);
    }
    if pause.noticed {
        return None;
    }
    pause.noticed = true;
    Some(format!(
        "paused: {} until {} (since {}{why})",
        pause.scope.names(),
        pause.until,
        pause.since
    ))
}

/// Whether schedules, events and the forecast may raise a floor now.
pub(in crate::engine) fn floors_paused(ctx: &Context) -> bool {
    ctx.state
        .pause
        .as_ref()
        .is_some_and(|p| p.active(ctx.now) && p.scope.scheduled)
}

/// Keeps the count where it is in a paused direction.
pub(in crate::engine) fn hold(ctx: &Context, chain: &mut Chain) {
    let Some(pause) = ctx.state.pause.as_ref().filter(|p| p.active(ctx.now)) else {
        return;
    };
    let previous = ctx.previous;
    let direction = match chain.value.cmp(&previous) {
        std::cmp::Ordering::Greater if pause.scope.scale_out => "scale-out",
        std::cmp::Ordering::Less if pause.scope.scale_in => "scale-in",
        _ => return,
    };
    chain.set(
        Term::Paused,
        previous,
        format!(
            "{direction} to {} paused until {}{}",
            chain.value,
            pause.until,
            pause
                .reason
                .as_deref()
                .map_or(String::new(), |r| format!(" ({r})"))
        ),
    );
}
