from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0004_kpi_scoring_policy')]

    initial = False

    operations = [
        ops.CreateModel(
            name='MeasurementRevision',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('kpi', fields.ForeignKeyField('models.Kpi', source_field='kpi_id', db_constraint=True, to_field='id', related_name='revisions', on_delete=OnDelete.CASCADE)),
                ('period_start', fields.DateField()),
                ('value', fields.FloatField()),
                ('source', fields.CharField(max_length=64)),
                ('recorded_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('recorded_by_id', fields.IntField(null=True)),
                ('replaced_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'measurement_revision', 'app': 'models', 'indexes': [Index(fields=['tenant_id', 'kpi_id', 'period_start'])], 'pk_attr': 'id', 'table_description': 'A value a measurement held before it was replaced (nothing is lost).'},
            bases=['TenantOwned'],
        ),
    ]
