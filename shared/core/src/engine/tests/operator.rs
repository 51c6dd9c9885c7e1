//! An operator's pause: no move in a paused direction, floors not raised
//! when `scheduled` is paused, the start and the end audited once each.

use super::*;
use crate::engine::{Pause, PauseScope};

fn paused(scope: PauseScope, until: Timestamp) -> TargetState {
    TargetState {
        pause: Some(Pause {
            scope,
            since: t(0),
            until,
            reason: Some("producers down".into()),
            resumed: false,
            noticed: false,
        }),
        ..TargetState::default()
    }
}

const IN: PauseScope = PauseScope {
    scale_in: true,
    scale_out: false,
    scheduled: false,
};

#[test]
fn a_paused_scale_in_holds_an_empty_queues_fleet_until_it_expires() {
    let tg = target(plain(0, 100, 10.0), vec![sqs_signal("q")]);
    let mut state = paused(IN, t(180));
    let mut notices = Vec::new();
    for tick in 0..3 {
        let d = decide(
            &tg,
            &state,
            &sqs_obs(5, t(tick * 60), visible(0)),
            t(tick * 60),
        );
        assert_eq!(d.desired, 5, "{}", d.explain());
        assert!(d.bounded_by.contains(&Term::Paused), "{:?}", d.steps);
        notices.extend(d.notices.clone());
        state = d.next_state;
    }
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(
        notices[0].starts_with("paused: in until 2026-11-23T00:03:00Z"),
        "{}",
        notices[0]
    );
    let after = decide(&tg, &state, &sqs_obs(5, t(180), visible(0)), t(180));
    assert_eq!(after.desired, 0, "{}", after.explain());
    assert_eq!(after.next_state.pause, None);
    assert!(
        after.notices[0].starts_with("pause of in expired at 2026-11-23T00:03:00Z"),
        "{:?}",
        after.notices
    );
    // Scale-out is not paused.
    let d = decide(
        &tg,
        &paused(IN, t(180)),
        &sqs_obs(5, t(0), visible(200)),
        t(0),
    );
    assert_eq!(d.desired, 20);
}

#[test]
fn a_paused_schedule_raises_no_floor() {
    let tg = target(plain(0, 100, 10.0), vec![sqs_signal("q")]);
    let scope = PauseScope {
        scheduled: true,
        ..PauseScope::default()
    };
    let mut state = paused(scope, t(600));
    state.register_event(RegisteredEvent {
        name: "launch".into(),
        start: t(0),
        end: t(600),
        min: 30,
    });
    let d = decide(&tg, &state, &sqs_obs(5, t(60), visible(50)), t(60));
    assert_eq!(d.desired, 5, "{}", d.explain());
    assert!(!d.bounded_by.contains(&Term::Floor), "{:?}", d.steps);
}

fn scope() -> impl Strategy<Value = PauseScope> {
    (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(i, o, s)| PauseScope {
        scale_in: i,
        scale_out: o,
        scheduled: s,
    })
}

proptest! {
    /// Whatever the load, the floors and the rules before, the count never
    /// moves in a paused direction (bounds aside: a count outside them).
    #[test]
    fn no_move_in_a_paused_direction(
        scope in scope(),
        backlog in 0u64..50_000,
        current in 0u32..100,
        floor in 0u32..100,
    ) {
        let tg = target(PolicyConfig::with_target(0, 100, 10.0), vec![sqs_signal("q")]);
        let mut state = paused(scope, t(3600));
        state.register_event(RegisteredEvent { name: "e".into(), start: t(0), end: t(600), min: floor });
        let d = decide(&tg, &state, &sqs_obs(current, t(60), visible(backlog)), t(60));
        if scope.scale_out {
            prop_assert!(d.desired <= current, "{}", d.explain());
        }
        if scope.scale_in {
            prop_assert!(d.desired >= current, "{}", d.explain());
        }
    }
}
