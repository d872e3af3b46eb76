"""Building blocks every component uses; none of them is a component of its own.

- ``alarms``: CloudWatch metric alarms described from settings, declared to the alerts topic;
- ``logs``: the retention periods CloudWatch Logs accepts and log groups with a key of their own;
- ``security_groups``: security groups that admit only named client security groups;
- ``placement``: a data store's subnet group and clients-only security group in the isolated
  subnets;
- ``iam``: IAM roles that one Kubernetes service account assumes (IRSA);
- ``windows``: backup and maintenance windows and instance-class checks for the data tier;
- ``wiring``: what every component is handed besides its settings (naming, KMS, alerts, edge).
"""
