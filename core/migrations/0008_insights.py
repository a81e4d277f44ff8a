from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from goalgraph.core.enums import AlertStatus, ProposalStatus
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0007_data_bindings')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Adjustment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('org_unit', fields.ForeignKeyField('models.OrgUnit', source_field='org_unit_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('key_result', fields.ForeignKeyField('models.KeyResult', source_field='key_result_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('current_target', fields.FloatField()),
                ('suggested_target', fields.FloatField()),
                ('attainment', fields.FloatField(description='Recent attainment of the KPIs feeding the key result (1.0 = on target).')),
                ('reason', fields.TextField(unique=False)),
                ('reason_en', fields.TextField(default='', unique=False)),
                ('evidence', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharEnumField(default=ProposalStatus.PROPOSED, description='PROPOSED: proposed\nACCEPTED: accepted\nDISMISSED: dismissed', enum_type=ProposalStatus, max_length=16)),
                ('decided_by_id', fields.IntField(null=True)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'adjustment', 'app': 'models', 'indexes': [Index(fields=['tenant_id', 'org_unit_id', 'status'])], 'pk_attr': 'id', 'table_description': 'A proposed new target for a key result of a unit whose KPIs keep missing.'},
            bases=['TenantOwned'],
        ),
        ops.CreateModel(
            name='Alert',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('kind', fields.CharField(default='consecutive_misses', max_length=32)),
                ('kpi', fields.ForeignKeyField('models.Kpi', source_field='kpi_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('owner_unit_id', fields.IntField(null=True)),
                ('owner_person_id', fields.IntField(null=True)),
                ('owner_path', fields.CharField(max_length=512)),
                ('misses', fields.IntField()),
                ('evidence', fields.JSONField(default=list, description='The missed periods: [{"period": "2026-11-26", "value": 4.6, "threshold": 4}, ...]', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharEnumField(default=AlertStatus.OPEN, description='OPEN: open\nRESOLVED: resolved', enum_type=AlertStatus, max_length=16)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'alert', 'app': 'models', 'indexes': [Index(fields=['tenant_id', 'status', 'kpi_id']), Index(fields=['tenant_id', 'owner_path'])], 'pk_attr': 'id', 'table_description': 'A KPI that missed its threshold in several consecutive periods.'},
            bases=['TenantOwned'],
        ),
        ops.CreateModel(
            name='Recommendation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('person', fields.ForeignKeyField('models.Person', source_field='person_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('kpi', fields.ForeignKeyField('models.Kpi', source_field='kpi_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('alert', fields.ForeignKeyField('models.Alert', source_field='alert_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('course_code', fields.CharField(max_length=64)),
                ('title', fields.CharField(max_length=300)),
                ('title_en', fields.CharField(default='', max_length=300)),
                ('pack', fields.CharField(default='', max_length=64)),
                ('hours', fields.FloatField(default=0)),
                ('evidence', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharEnumField(default=ProposalStatus.PROPOSED, description='PROPOSED: proposed\nACCEPTED: accepted\nDISMISSED: dismissed', enum_type=ProposalStatus, max_length=16)),
                ('decided_by_id', fields.IntField(null=True)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'recommendation', 'app': 'models', 'indexes': [Index(fields=['tenant_id', 'person_id', 'status'])], 'pk_attr': 'id', 'table_description': 'A course proposed to a person for a KPI they keep missing, with the evidence.'},
            bases=['TenantOwned'],
        ),
        ops.CreateModel(
            name='TrainingRecord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('person', fields.ForeignKeyField('models.Person', source_field='person_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('recommendation', fields.ForeignKeyField('models.Recommendation', source_field='recommendation_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('course_code', fields.CharField(max_length=64)),
                ('title', fields.CharField(max_length=300)),
                ('title_en', fields.CharField(default='', max_length=300)),
                ('hours', fields.FloatField(default=0)),
                ('assigned_on', fields.DateField()),
            ],
            options={'table': 'training_record', 'app': 'models', 'indexes': [Index(fields=['tenant_id', 'person_id'])], 'pk_attr': 'id', 'table_description': 'A course a person takes (培训记录), from an accepted recommendation.'},
            bases=['TenantOwned'],
        ),
        ops.AddField(
            model_name='Tenant',
            name='alert_after_misses',
            field=fields.SmallIntField(default=3, description='How many consecutive missed periods raise an alert on a KPI.'),
        ),
    ]
