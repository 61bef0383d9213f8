"""Runtime secrets in AWS Secrets Manager, and the production env contract in SSM Parameter Store.

Values come only from Pulumi config secrets or pulumi-random, and are written through the
write-only attributes (secret_string_wo, value_wo). What reaches state: never the plaintext; the
current Terraform bridge still stores write-only inputs in the resource's state inputs, encrypted by
the stack's secrets provider (pulumi-terraform-bridge issue #3201, open), so they are passed as
secrets. The price of write-only: a changed value is not detected by a diff, so each secret carries
a `version` in the spec that must be bumped to write a new value.
(pulumi-random itself keeps a generated `result` in state, encrypted as a Pulumi secret.)
"""
from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from infra.spec.secretspec import (
    NAMESPACE,
    TAG_ENV,
    TAG_SECRET,
    TAG_STACK,
    LambdaRotation,
    SecretItem,
    Secrets,
    env_path,
    rotation_tags,
    secret_name,
)


class KmsKey(pulumi.ComponentResource):
    """A customer-managed KMS key with automatic rotation, and an alias people can recognise."""

    arn: pulumi.Output[str]

    def __init__(self, name: str, description: str, alias: str, tags: dict, *, rotation_days: int = 365,
                 deletion_window_days: int = 30, policy: pulumi.Input[str] | None = None,
                 region: str | None = None, opts: pulumi.ResourceOptions | None = None):
        super().__init__("launchready:secrets:KmsKey", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        key = aws.kms.Key(f"{name}-key", description=description, enable_key_rotation=True,
                          rotation_period_in_days=rotation_days, deletion_window_in_days=deletion_window_days,
                          policy=policy, region=region, tags=tags, opts=child)
        aws.kms.Alias(f"{name}-alias", name=f"alias/{alias}", target_key_id=key.key_id, region=region, opts=child)
        self.arn = key.arn
        self.key_id = key.key_id
        self.register_outputs({"arn": self.arn})


class SecretStore(pulumi.ComponentResource):
    """One Secrets Manager secret per spec item, encrypted with the stack's KMS key."""

    key_arn: pulumi.Output[str]
    secret_arns: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, secrets: Secrets, stack: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__("launchready:secrets:SecretStore", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        base_tags = {TAG_STACK: stack}
        self.key = KmsKey(f"{name}-kms", f"launch-ready {stack}: runtime secrets and SecureString env",
                          secrets.kms.alias or f"{NAMESPACE}/{stack}", base_tags,
                          rotation_days=secrets.kms.rotation_period_days,
                          deletion_window_days=secrets.kms.deletion_window_days, opts=child)
        self.key_arn = self.key.arn
        config = pulumi.Config(NAMESPACE)
        self.values: dict[str, pulumi.Output[str]] = {}
        self.versions: dict[str, int] = {}
        self.secret_arns = {}
        for item in secrets.items:
            value = self._value(name, item, config, child)
            self.values[item.name] = value
            self.versions[item.name] = item.version
            secret = aws.secretsmanager.Secret(
                f"{name}-{item.name}", name=secret_name(stack, item.name), description=item.description or None,
                kms_key_id=self.key.arn, recovery_window_in_days=secrets.recovery_window_days,
                tags={**base_tags, TAG_SECRET: item.name, **rotation_tags(item)}, opts=child)
            version = aws.secretsmanager.SecretVersion(
                f"{name}-{item.name}-value", secret_id=secret.id,
                secret_string_wo=value, secret_string_wo_version=item.version, opts=child)
            if isinstance(item.rotation, LambdaRotation):
                aws.secretsmanager.SecretRotation(
                    f"{name}-{item.name}-rotation", secret_id=secret.id,
                    rotation_lambda_arn=item.rotation.lambda_arn,
                    rotation_rules={"automatically_after_days": item.rotation.days},
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[version]))
            self.secret_arns[item.name] = secret.arn
        self.register_outputs({"keyArn": self.key_arn, "secretArns": self.secret_arns})

    def _value(self, name: str, item: SecretItem, config: pulumi.Config, child) -> pulumi.Output[str]:
        if item.from_config:
            # The spec already refused a plaintext key; require_secret keeps it wrapped, and stops the
            # real engine with Pulumi's own message when the key is not set (plan and gate name it first).
            return config.require_secret(item.from_config)
        generated = random.RandomPassword(f"{name}-{item.name}-generated", length=item.generate.length,
                                          special=item.generate.special, opts=child)
        # result is a secret output of pulumi-random; say so explicitly, it must never be printed.
        return pulumi.Output.secret(generated.result)


class EnvContract(pulumi.ComponentResource):
    """The production env the app requires, under one SSM path: String, or SecureString for secrets."""

    path: pulumi.Output[str]

    def __init__(self, name: str, secrets: Secrets, stack: str, store: SecretStore | None,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("launchready:secrets:EnvContract", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        prefix = env_path(stack)
        self.parameters: dict[str, aws.ssm.Parameter] = {}
        for key, value in sorted(secrets.env.items()):
            tags = {TAG_STACK: stack, TAG_ENV: key}
            if isinstance(value, str):
                # insecure_value: a plain env value is not secret, and the plan should show it.
                param = aws.ssm.Parameter(f"{name}-{key}", name=f"{prefix}/{key}", type="String", insecure_value=value,
                                          tags=tags, opts=child)
            else:
                assert store is not None  # the spec only allows references to declared secrets
                param = aws.ssm.Parameter(
                    f"{name}-{key}", name=f"{prefix}/{key}", type="SecureString", key_id=store.key_arn,
                    value_wo=store.values[value.secret], value_wo_version=store.versions[value.secret],
                    tags={**tags, TAG_SECRET: value.secret}, opts=child)
            self.parameters[key] = param
        self.path = pulumi.Output.from_input(prefix)
        self.register_outputs({"path": self.path, "keys": sorted(self.parameters)})
