from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0014_owner_indexes')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Person',
            name='locale',
            field=fields.CharField(null=True, description='The language the person reads messages in, zh-CN or en (None: by Accept-Language).', max_length=8),
        ),
    ]
