from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PackEnablement',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('pack', fields.CharField(max_length=64)),
                ('stages', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'pack_enablement', 'app': 'models', 'unique_together': (('tenant_id', 'pack'),), 'pk_attr': 'id', 'table_description': "A pack enabled for some of a tenant's lifecycle stages (行业包按阶段启用)."},
            bases=['TenantOwned'],
        ),
        ops.AddField(
            model_name='KeyResult',
            name='origin',
            field=fields.CharField(default='', description='``pack:template`` this goal was created from, if any (kept when the pack is disabled).', max_length=140),
        ),
        ops.AddField(
            model_name='Kpi',
            name='origin',
            field=fields.CharField(default='', description='``pack:template`` this goal was created from, if any (kept when the pack is disabled).', max_length=140),
        ),
        ops.AddField(
            model_name='Objective',
            name='origin',
            field=fields.CharField(default='', description='``pack:template`` this goal was created from, if any (kept when the pack is disabled).', max_length=140),
        ),
    ]
