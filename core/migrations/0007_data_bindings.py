from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from goalgraph.core.enums import SyncStatus
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import UniqueConstraint

class Migration(migrations.Migration):
    dependencies = [('models', '0006_stored_scores')]

    initial = False

    operations = [
        ops.CreateModel(
            name='DataBinding',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('name', fields.CharField(max_length=200)),
                ('adapter', fields.CharField(max_length=100)),
                ('config', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('secrets', fields.TextField(default='', unique=False)),
                ('metrics', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('kpi', fields.ForeignKeyField('models.Kpi', source_field='kpi_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('org_unit', fields.ForeignKeyField('models.OrgUnit', source_field='org_unit_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('every_minutes', fields.IntField(null=True, description='Minutes between scheduled syncs (null: only when asked, or pushed by webhook).')),
                ('active', fields.BooleanField(default=True)),
            ],
            options={'table': 'data_binding', 'app': 'models', 'unique_together': (('tenant_id', 'name'),), 'pk_attr': 'id', 'table_description': 'KPIs of a tenant connected to a data source through an adapter.'},
            bases=['TenantOwned'],
        ),
        ops.CreateModel(
            name='SyncJob',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('binding', fields.OneToOneField('models.DataBinding', source_field='binding_id', db_constraint=True, to_field='id', related_name='job', on_delete=OnDelete.CASCADE)),
                ('next_run_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('lease_owner', fields.CharField(null=True, max_length=64)),
                ('lease_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('cursor', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'sync_job', 'app': 'models', 'indexes': [Index(fields=['next_run_at'])], 'pk_attr': 'id', 'table_description': 'The place of a binding in the sync schedule, its lease and its cursor.'},
            bases=['TenantOwned'],
        ),
        ops.CreateModel(
            name='SyncRun',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('binding', fields.ForeignKeyField('models.DataBinding', source_field='binding_id', db_constraint=True, to_field='id', related_name='runs', on_delete=OnDelete.CASCADE)),
                ('trigger', fields.CharField(max_length=16)),
                ('status', fields.CharEnumField(default=SyncStatus.RUNNING, description='RUNNING: running\nSUCCEEDED: succeeded\nPARTIAL: partial\nFAILED: failed', enum_type=SyncStatus, max_length=16)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('rows_read', fields.IntField(default=0)),
                ('rows_written', fields.IntField(default=0)),
                ('rows_rejected', fields.IntField(default=0)),
                ('error', fields.TextField(default='', unique=False)),
            ],
            options={'table': 'sync_run', 'app': 'models', 'indexes': [Index(fields=['tenant_id', 'binding_id', 'started_at'])], 'pk_attr': 'id', 'table_description': 'One sync of a binding: when, what it read, wrote and rejected, how it ended.'},
            bases=['TenantOwned'],
        ),
        ops.CreateModel(
            name='RejectedRow',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('run', fields.ForeignKeyField('models.SyncRun', source_field='run_id', db_constraint=True, to_field='id', related_name='rejected', on_delete=OnDelete.CASCADE)),
                ('ref', fields.CharField(max_length=200)),
                ('reason', fields.TextField(unique=False)),
                ('content', fields.TextField(default='', unique=False)),
            ],
            options={'table': 'rejected_row', 'app': 'models', 'indexes': [Index(fields=['tenant_id', 'run_id'])], 'pk_attr': 'id', 'table_description': 'A row a sync could not use, kept with where it was and why.'},
            bases=['TenantOwned'],
        ),
        ops.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('binding', fields.ForeignKeyField('models.DataBinding', source_field='binding_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('signature', fields.CharField(max_length=128)),
            ],
            options={'table': 'webhook_delivery', 'app': 'models', 'unique_together': (('binding_id', 'signature'),), 'pk_attr': 'id', 'table_description': 'A pushed batch already accepted (by its signature), so a replay is refused.'},
            bases=['TenantOwned'],
        ),
        ops.AddField(
            model_name='OrgUnit',
            name='code',
            field=fields.CharField(null=True, description='The code business systems know the unit by (a store number), unique in the tenant.', max_length=64),
        ),
        ops.AddConstraint(
            model_name='OrgUnit',
            constraint=UniqueConstraint(fields=('tenant_id', 'code'), name=None),
        ),
        ops.AddField(
            model_name='Person',
            name='code',
            field=fields.CharField(null=True, description='The code business systems know the person by (an employee number), unique in the tenant.', max_length=64),
        ),
        ops.AddConstraint(
            model_name='Person',
            constraint=UniqueConstraint(fields=('tenant_id', 'code'), name=None),
        ),
    ]
