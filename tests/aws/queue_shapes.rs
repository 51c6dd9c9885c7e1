//! Queues that are not plain backlogs, against moto: a FIFO queue whose
//! message groups bound the workers (moto locks a group while one of its
//! messages is in flight, as SQS does), and poison messages that a failing
//! consumer sends to the dead-letter queue (`maxReceiveCount: 1`).

use aws_sdk_sqs::types::{QueueAttributeName, SendMessageBatchRequestEntry};

use super::*;

/// A FIFO queue holding `per_group` messages in each of `groups` groups, a
/// long visibility timeout so received messages stay in flight.
async fn fifo_queue(moto: &Moto, groups: usize, per_group: usize) -> String {
    let url = moto
        .queue_with_attributes(
            &format!("{}.fifo", unique("orders")),
            &[
                (QueueAttributeName::FifoQueue, "true".into()),
                (QueueAttributeName::ContentBasedDeduplication, "true".into()),
                (QueueAttributeName::VisibilityTimeout, "3600".into()),
            ],
        )
        .await;
    for g in 0..groups {
        for chunk in (0..per_group).collect::<Vec<_>>().chunks(10) {
            let batch = chunk
                .iter()
                .map(|i| {
                    SendMessageBatchRequestEntry::builder()
                        .id(format!("m{i}"))
                        .message_body(format!("group {g} job {i}"))
                        .message_group_id(format!("group-{g}"))
                        .build()
                        .unwrap()
                })
                .collect();
            moto.clients
                .sqs
                .send_message_batch()
                .queue_url(&url)
                .set_entries(Some(batch))
                .send()
                .await
                .unwrap();
        }
    }
    url
}

/// Receives one message at a time until none comes: on a FIFO queue, one
/// per group (the rest of each group waits for it). Returns how many.
async fn hold_one_per_group(moto: &Moto, url: &str) -> usize {
    let mut held = 0;
    loop {
        let out = moto
            .clients
            .sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(1)
            .send()
            .await
            .unwrap();
        if out.messages().is_empty() {
            return held;
        }
        held += 1;
        assert!(
            held <= 10,
            "moto handed out more than one message per group"
        );
    }
}

#[tokio::test]
async fn a_fifo_backlog_in_three_groups_stays_at_about_three_workers() {
    let f = fixture().await;
    // 102 messages, not the 1,000 of issue 24: moto's FIFO send checks
    // every message already queued (1,002 took 82 s to send).
    let url = fifo_queue(&f.moto, 3, 34).await;
    // Configured: 102 messages at 2 per worker would want 51 (max 50).
    let (cluster, service) = (unique("c"), unique("s"));
    f.moto.ecs_service(&cluster, &service, 1).await;
    let c = config(&[format!(
        "\n  - name: fifo-ecs\n    signals: [ {{ sqs: {{ name: jobs, queue: \"{url}\", max_active_groups: 3 }} }} ]\n    worker: {{ ecs: {{ cluster: {cluster}, service: {service} }} }}\n    policy:\n{}",
        policy(0, 50, 2, &scale_in("0s"))
    )]);
    let summary = f.run(&c, now(), false).await;
    assert_eq!(summary.failures(), 0, "{}", summary.table());
    assert_eq!(f.moto.desired(&cluster, &service).await, 3);
    let d = summary.reports[0].report.decision.as_ref().unwrap();
    assert!(d.bounded_by.contains(&Term::FifoGroups), "{:?}", d.steps);

    // Inferred: consumers hold one message of each group in flight, so 3
    // stay in flight while 99 wait. moto reports an ECS service's tasks as
    // pending, never running, so the fleet here is a Lambda function, whose
    // reserved concurrency is what runs.
    assert_eq!(hold_one_per_group(&f.moto, &url).await, 3);
    let function = unique("fn");
    f.moto.lambda_function(&function, 10).await;
    let c = config(&[format!(
        "\n  - name: fifo-lambda\n    signals: [ {{ sqs: {{ name: jobs, queue: \"{url}\" }} }} ]\n    worker: {{ lambda_concurrency: {{ function: {function} }} }}\n    policy:\n{}",
        policy(0, 50, 2, &scale_in("0s"))
    )]);
    let t0 = now();
    let mut counts = Vec::new();
    for tick in 0..4 {
        let summary = f
            .run(&c, t0 + SignedDuration::from_secs(15 * tick), false)
            .await;
        assert_eq!(summary.failures(), 0, "{}", summary.table());
        counts.push(summary.reports[0].report.decision.as_ref().unwrap().desired);
    }
    // The first readings show nothing yet (max 50); the third shows 3 in
    // flight with 47 idle: 3 groups and a spare.
    assert_eq!(counts, [50, 50, 4, 4], "desired per tick");
    assert_eq!(f.moto.reserved_concurrency(&function).await, Some(4));
}

#[tokio::test]
async fn a_failing_consumer_feeding_the_dead_letter_queue_holds_scale_out() {
    let f = fixture().await;
    let sqs = &f.moto.clients.sqs;
    let dlq = f.moto.queue_with(&unique("dlq"), 0).await;
    let dlq_arn = f.moto.queue_arn(&dlq).await;
    let url = f
        .moto
        .queue_with_attributes(
            &unique("q"),
            &[(
                QueueAttributeName::RedrivePolicy,
                format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":1}}"#),
            )],
        )
        .await;
    f.moto.send(&url, 20).await;
    let (cluster, service) = (unique("c"), unique("s"));
    f.moto.ecs_service(&cluster, &service, 2).await;
    let c = config(&[ecs_target(
        "poisoned",
        &url,
        &cluster,
        &service,
        &policy(0, 50, 10, &scale_in("0s")),
    )]);
    let t0 = now();
    let first = f.run(&c, t0, false).await;
    assert_eq!(first.failures(), 0, "{}", first.table());
    assert_eq!(f.moto.desired(&cluster, &service).await, 2);
    let d = first.reports[0].report.decision.as_ref().unwrap();
    assert!(
        !d.signals[0].detail.contains("poison"),
        "{}",
        d.signals[0].detail
    );
    // The reading of a queue with a dead-letter queue costs one more call.
    assert_eq!(first.api_calls.get("sqs:GetQueueAttributes"), Some(&2));

    // A failing consumer: every message it takes comes back at once
    // (visibility 0); on the next receive moto moves it to the dead-letter
    // queue (maxReceiveCount 1). Meanwhile 100 more arrive.
    for _ in 0..2 {
        sqs.receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .visibility_timeout(0)
            .send()
            .await
            .unwrap();
    }
    f.moto.send(&url, 100).await;
    let held = f.run(&c, t0 + SignedDuration::from_secs(15), false).await;
    assert_eq!(held.failures(), 0, "{}", held.table());
    let d = held.reports[0].report.decision.as_ref().unwrap();
    assert_eq!(
        f.moto.desired(&cluster, &service).await,
        2,
        "{}",
        d.explanation
    );
    assert!(
        d.bounded_by.contains(&Term::PoisonSuspected),
        "{:?}",
        d.steps
    );
    let events = f.moto.audit_events(&f.audit).await;
    let audited = events.last().expect("an audit event");
    assert!(audited.bounded_by.contains(&Term::PoisonSuspected));
    assert!(
        audited.inputs[0]
            .detail
            .contains("dead-letter queue grew by 10 in 15 s"),
        "{}",
        audited.inputs[0].detail
    );

    // Nothing more fails: the 110 waiting are sized as load again.
    let after = f.run(&c, t0 + SignedDuration::from_secs(30), false).await;
    assert_eq!(after.failures(), 0, "{}", after.table());
    assert_eq!(f.moto.desired(&cluster, &service).await, 11);
}
