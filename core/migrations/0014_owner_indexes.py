from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0013_signin_providers')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='KeyResult',
            index=Index(fields=['tenant_id', 'owner_unit_id']),
        ),
        ops.AddIndex(
            model_name='KeyResult',
            index=Index(fields=['tenant_id', 'owner_person_id']),
        ),
        ops.AddIndex(
            model_name='Kpi',
            index=Index(fields=['tenant_id', 'owner_person_id']),
        ),
        ops.AddIndex(
            model_name='Objective',
            index=Index(fields=['tenant_id', 'owner_unit_id']),
        ),
        ops.AddIndex(
            model_name='Objective',
            index=Index(fields=['tenant_id', 'owner_person_id']),
        ),
        ops.RemoveIndex(
            model_name='Score',
            name=None,
            fields=['tenant_id', 'cycle_id', 'kind'],
        ),
        ops.AddIndex(
            model_name='Score',
            index=Index(fields=['tenant_id', 'cycle_id', 'kind', 'node_id']),
        ),
    ]
