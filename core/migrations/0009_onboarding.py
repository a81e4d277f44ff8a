from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import UniqueConstraint

class Migration(migrations.Migration):
    dependencies = [('models', '0008_insights')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AccessKey',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('kind', fields.CharField(max_length=16)),
                ('name', fields.CharField(max_length=200)),
                ('prefix', fields.CharField(max_length=24)),
                ('secret_hash', fields.CharField(unique=True, max_length=64)),
                ('role', fields.CharField(null=True, description='The role requests made with the key act as (API keys, null for SCIM).', max_length=16)),
                ('created_by_id', fields.IntField(null=True)),
                ('expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'access_key', 'app': 'models', 'indexes': [Index(fields=['tenant_id', 'kind'])], 'pk_attr': 'id', 'table_description': 'A bearer secret of one tenant for one purpose (``kind``: ``scim``, ``api``).'},
            bases=['TenantOwned'],
        ),
        ops.CreateModel(
            name='DottedLine',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('person', fields.ForeignKeyField('models.Person', source_field='person_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('manager', fields.ForeignKeyField('models.Person', source_field='manager_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'dotted_line', 'app': 'models', 'unique_together': (('person_id', 'manager_id'),), 'indexes': [Index(fields=['tenant_id', 'manager_id'])], 'pk_attr': 'id', 'table_description': 'A dotted-line manager (虚线汇报): someone a person also reports to, beside the'},
            bases=['TenantOwned'],
        ),
        ops.AddField(
            model_name='Cycle',
            name='closed_at',
            field=fields.DatetimeField(null=True, description='When the cycle was closed (null: open). The stored scores of a closed cycle are', auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Cycle',
            name='closed_by_id',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='DataBinding',
            name='kind',
            field=fields.CharField(default='data', description='``data`` (KPI values from a data adapter) or ``org`` (units and people from an', max_length=16),
        ),
        ops.AddField(
            model_name='Objective',
            name='rolled_from',
            field=fields.ForeignKeyField('models.Objective', source_field='rolled_from_id', null=True, description='The objective of an earlier cycle this one was rolled forward from.', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='OrgUnit',
            name='archived_at',
            field=fields.DatetimeField(null=True, description='When the unit was archived (null: active). Archived units keep their history', auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='OrgUnit',
            name='external_id',
            field=fields.CharField(null=True, description='The id of the unit in the HR directory it is synced from (a DingTalk or Feishu', max_length=128),
        ),
        ops.AddConstraint(
            model_name='OrgUnit',
            constraint=UniqueConstraint(fields=('tenant_id', 'external_id'), name=None),
        ),
        ops.AddField(
            model_name='Person',
            name='active',
            field=fields.BooleanField(default=True, description='A leaver is deactivated, never deleted: their measurements, scores and past'),
        ),
        ops.AddField(
            model_name='Person',
            name='deactivated_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Person',
            name='external_id',
            field=fields.CharField(null=True, description='The id of the person in the HR directory or identity provider that provisions them', max_length=128),
        ),
        ops.AddField(
            model_name='Person',
            name='job_title',
            field=fields.CharField(default='', description='Job title (职位), as the HR system spells it.', max_length=200),
        ),
        ops.AddField(
            model_name='Person',
            name='manager',
            field=fields.ForeignKeyField('models.Person', source_field='manager_id', null=True, description='The solid-line manager when it is not the one the org tree gives (null: the', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.AddIndex(
            model_name='Person',
            index=Index(fields=['tenant_id', 'email']),
        ),
        ops.AddConstraint(
            model_name='Person',
            constraint=UniqueConstraint(fields=('tenant_id', 'external_id'), name=None),
        ),
    ]
