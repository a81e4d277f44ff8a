from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_pack_enablement')]

    initial = False

    operations = [
        ops.CreateModel(
            name='StageWeighting',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('stage', fields.CharField(max_length=64)),
                ('okr_share', fields.FloatField()),
            ],
            options={'table': 'stage_weighting', 'app': 'models', 'unique_together': (('tenant_id', 'stage'),), 'pk_attr': 'id', 'table_description': 'The OKR share a tenant chose for one stage (the KPI share is the rest).'},
            bases=['TenantOwned'],
        ),
    ]
