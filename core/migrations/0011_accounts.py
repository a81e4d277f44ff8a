from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0010_org_source_members')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Account',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('person', fields.ForeignKeyField('models.Person', source_field='person_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('password_hash', fields.CharField(description='The argon2id hash in PHC form (parameters and salt included).', max_length=255)),
                ('password_set_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('failed_attempts', fields.SmallIntField(default=0, description='Failed sign-ins since ``failed_since``, the start of the current counting window.')),
                ('failed_since', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('locked_until', fields.DatetimeField(null=True, description='Sign-ins are refused until then (null: not locked).', auto_now=False, auto_now_add=False)),
                ('last_sign_in_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'account', 'app': 'models', 'unique_together': (('tenant_id', 'person_id'),), 'pk_attr': 'id', 'table_description': 'The password of a person who signs in with goalgraph itself (no identity provider).'},
            bases=['TenantOwned'],
        ),
        ops.CreateModel(
            name='AccountLink',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('purpose', fields.CharField(description='invitation or password_reset', max_length=16)),
                ('person', fields.ForeignKeyField('models.Person', source_field='person_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('secret_hash', fields.CharField(unique=True, description='SHA-256 of the secret in the link (the link itself is shown once).', max_length=64)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_by_id', fields.IntField(null=True)),
            ],
            options={'table': 'account_link', 'app': 'models', 'indexes': [Index(fields=['tenant_id', 'person_id'])], 'pk_attr': 'id', 'table_description': 'A single-use link an admin issues: an invitation or a password reset.'},
            bases=['TenantOwned'],
        ),
        ops.CreateModel(
            name='SessionFamily',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('sid', fields.CharField(unique=True, max_length=32)),
                ('person', fields.ForeignKeyField('models.Person', source_field='person_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('method', fields.CharField(description='How the person signed in (password, oidc, feishu and so on).', max_length=16)),
                ('expires_at', fields.DatetimeField(description='The end of the family whatever its refreshes.', auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_reason', fields.CharField(default='', description='Why it was revoked (signed_out, reuse, password_reset, deactivated).', max_length=32)),
            ],
            options={'table': 'session_family', 'app': 'models', 'indexes': [Index(fields=['tenant_id', 'person_id'])], 'pk_attr': 'id', 'table_description': 'One sign-in and every token refreshed from it: access tokens carry its'},
            bases=['TenantOwned'],
        ),
        ops.CreateModel(
            name='RefreshToken',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('family', fields.ForeignKeyField('models.SessionFamily', source_field='family_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, description='SHA-256 of the token.', max_length=64)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('rotated_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'refresh_token', 'app': 'models', 'indexes': [Index(fields=['tenant_id', 'family_id'])], 'pk_attr': 'id', 'table_description': 'One refresh token of a family, rotated by each use (``rotated_at``) and a'},
            bases=['TenantOwned'],
        ),
        ops.CreateModel(
            name='SignInThrottle',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('address', fields.CharField(max_length=64)),
                ('window_started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('failures', fields.IntField(default=0)),
            ],
            options={'table': 'sign_in_throttle', 'app': 'models', 'unique_together': (('tenant_id', 'address'),), 'pk_attr': 'id', 'table_description': 'Failed sign-ins from one client address into one tenant, in a fixed window.'},
            bases=['TenantOwned'],
        ),
    ]
