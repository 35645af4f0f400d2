// The few alarms worth their price ($0.10 a month each): the API answering 5xx, and each API
// function failing or being throttled by Lambda (its reserved concurrency, or the account's
// concurrency limit, reached: a flood, or a need to raise it). With an email address they notify
// it through an SNS topic; without, they have no action at all and show only in the CloudWatch
// console, where someone has to look.
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface ControlPlaneAlarmsProps {
  readonly api: apigw.HttpApi;
  /** The functions to watch, by the name their alarms carry. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /**
   * Who is emailed when an alarm fires.
   * @default no topic: alarms only show in the console
   */
  readonly email?: string;
  /**
   * Errors (or 5xx answers, or throttled calls) in five minutes that fire an alarm.
   * @default 5
   */
  readonly threshold?: number;
}

export class ControlPlaneAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly topic?: sns.Topic;

  constructor(scope: Construct, id: string, props: ControlPlaneAlarmsProps) {
    super(scope, id);
    const threshold = props.threshold ?? 5;
    const period = Duration.minutes(5);
    const alarm = (alarmId: string, metric: cloudwatch.Metric, description: string) => {
      const created = metric.createAlarm(this, alarmId, {
        alarmDescription: description,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        // No traffic is the normal idle state, not a problem.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      this.alarms.push(created);
    };
    alarm(
      'Api5xx',
      props.api.metricServerError({ period, statistic: 'Sum' }),
      `The Kubeport API answered ${threshold} or more 5xx in five minutes`,
    );
    for (const [name, fn] of Object.entries(props.functions)) {
      alarm(
        `${name}Errors`,
        fn.metricErrors({ period, statistic: 'Sum' }),
        `The ${name} function failed ${threshold} or more times in five minutes`,
      );
      alarm(
        `${name}Throttles`,
        fn.metricThrottles({ period, statistic: 'Sum' }),
        `The ${name} function was throttled ${threshold} or more times in five minutes (its reserved concurrency or the account's concurrency limit was reached)`,
      );
    }
    if (props.email !== undefined) {
      this.topic = new sns.Topic(this, 'Topic', { displayName: 'Kubeport alarms', enforceSSL: true });
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
      for (const created of this.alarms) created.addAlarmAction(new actions.SnsAction(this.topic));
    }
  }
}
