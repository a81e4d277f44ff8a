from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_stage_weighting')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Kpi',
            name='scoring_policy',
            field=fields.CharField(default='linear', description="A core policy (``linear``, ``pass_fail``, ``banded``) or one of an enabled pack's.", max_length=64),
        ),
    ]
