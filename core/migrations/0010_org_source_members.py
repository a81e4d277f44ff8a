from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0009_onboarding')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OrgSourceMember',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('binding', fields.ForeignKeyField('models.DataBinding', source_field='binding_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('person', fields.ForeignKeyField('models.Person', source_field='person_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('seen_pass', fields.CharField(description='The pass that last saw the person in the directory.', max_length=32)),
            ],
            options={'table': 'org_source_member', 'app': 'models', 'unique_together': (('binding_id', 'person_id'),), 'indexes': [Index(fields=['tenant_id', 'binding_id', 'seen_pass'])], 'pk_attr': 'id', 'table_description': 'A person an org binding keeps in step with its directory, and the last pass'},
            bases=['TenantOwned'],
        ),
    ]
