from tortoise import migrations
from tortoise.migrations import operations as ops
from goalgraph.core.enums import GoalKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0005_measurement_revision')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Score',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('cycle', fields.ForeignKeyField('models.Cycle', source_field='cycle_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='OBJECTIVE: objective\nKEY_RESULT: key_result\nKPI: kpi', enum_type=GoalKind, max_length=16)),
                ('node_id', fields.IntField()),
                ('value', fields.FloatField(null=True)),
                ('score', fields.FloatField(null=True)),
            ],
            options={'table': 'score', 'app': 'models', 'unique_together': (('cycle_id', 'kind', 'node_id'),), 'indexes': [Index(fields=['tenant_id', 'cycle_id', 'kind'])], 'pk_attr': 'id', 'table_description': 'The score of one objective, key result or KPI in one cycle.'},
            bases=['TenantOwned'],
        ),
        ops.AddField(
            model_name='Cycle',
            name='scores_built_at',
            field=fields.DatetimeField(null=True, description='When the stored scores of this cycle were first built (null: not yet). They are', auto_now=False, auto_now_add=False),
        ),
    ]
