//! A queue's past arrivals from CloudWatch: `AWS/SQS NumberOfMessagesSent`,
//! Sum per period, for `qscale trace from-cloudwatch`. SQS publishes it per
//! minute; a minute without messages has no datapoint.

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy};
use jiff::Timestamp;
use qscale_core::reconcile::PortError;

use super::{describe, AwsClients};

/// `(period start, messages sent in it)` for `queue` (its name) from
/// `start` to `end`, oldest first.
pub async fn messages_sent(
    clients: &AwsClients,
    queue: &str,
    start: Timestamp,
    end: Timestamp,
    period_s: u32,
) -> Result<Vec<(Timestamp, f64)>, PortError> {
    let resource = format!("AWS/SQS NumberOfMessagesSent of queue {queue}");
    let query = MetricDataQuery::builder()
        .id("sent")
        .metric_stat(
            MetricStat::builder()
                .metric(
                    Metric::builder()
                        .namespace("AWS/SQS")
                        .metric_name("NumberOfMessagesSent")
                        .dimensions(Dimension::builder().name("QueueName").value(queue).build())
                        .build(),
                )
                .period(period_s as i32)
                .stat("Sum")
                .build(),
        )
        .return_data(true)
        .build();
    let mut points = Vec::new();
    let mut token: Option<String> = None;
    // Bounded: 100,800 datapoints per page covers 70 days of minutes.
    for _ in 0..100 {
        let out = clients
            .cloudwatch
            .get_metric_data()
            .metric_data_queries(query.clone())
            .start_time(DateTime::from_secs(start.as_second()))
            .end_time(DateTime::from_secs(end.as_second()))
            .scan_by(ScanBy::TimestampAscending)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| PortError::new(resource.clone(), describe(&e)))?;
        for result in out.metric_data_results() {
            for (t, v) in result.timestamps().iter().zip(result.values()) {
                let at = Timestamp::from_second(t.secs()).map_err(|e| {
                    PortError::new(resource.clone(), format!("datapoint time {t}: {e}"))
                })?;
                if !(v.is_finite() && *v >= 0.0) {
                    return Err(PortError::new(
                        resource.clone(),
                        format!("datapoint at {at} is {v}, not a count"),
                    ));
                }
                points.push((at, *v));
            }
        }
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    points.sort_by_key(|(t, _)| *t);
    Ok(points)
}
