from tortoise import migrations
from tortoise.migrations import operations as ops
from goalgraph.core.enums import Role
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0011_accounts')]

    initial = False

    operations = [
        ops.CreateModel(
            name='IdentityProvider',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('kind', fields.CharField(default='oidc', max_length=16)),
                ('issuer', fields.CharField(description='The issuer URL, the base of the discovery document and the iss of ID tokens.', max_length=500)),
                ('client_id', fields.CharField(max_length=255)),
                ('client_secret', fields.TextField(description='The client secret, sealed with the secrets key (never in clear).', unique=False)),
                ('claim', fields.CharField(default='email', description='The ID token claim that carries the identity (email, or an employee number claim).', max_length=64)),
                ('match_field', fields.CharField(default='email', description='The person field the claim is matched against: email or code.', max_length=16)),
                ('jit', fields.BooleanField(default=False, description='Create a person at first sign-in when no one matches (just-in-time), off by default.')),
                ('jit_org_unit_id', fields.IntField(null=True, description='The org unit people created just in time join.')),
                ('jit_role', fields.CharEnumField(default=Role.EMPLOYEE, description='ADMIN: admin\nCONSULTANT: consultant\nMANAGER: manager\nEMPLOYEE: employee\nVIEWER: viewer', enum_type=Role, max_length=16)),
                ('return_url', fields.CharField(default='', description='Where a signed-in browser is sent, tokens in the fragment (blank: /graphql).', max_length=500)),
                ('active', fields.BooleanField(default=True)),
            ],
            options={'table': 'identity_provider', 'app': 'models', 'unique_together': (('tenant_id', 'kind'),), 'pk_attr': 'id', 'table_description': 'The OpenID Connect identity provider people of a tenant sign in with.'},
            bases=['TenantOwned'],
        ),
        ops.CreateModel(
            name='OidcLogin',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('state_hash', fields.CharField(unique=True, description='SHA-256 of the state parameter (the browser holds the state itself).', max_length=64)),
                ('nonce', fields.CharField(max_length=128)),
                ('code_verifier', fields.TextField(description='The PKCE code verifier, sealed.', unique=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'oidc_login', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A sign-in sent to the identity provider and not yet back, used at most once.'},
            bases=['TenantOwned'],
        ),
    ]
