from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0012_identity_providers')]

    initial = False

    operations = [
        ops.AlterModelOptions(
            name='IdentityProvider',
            options={'table': 'identity_provider', 'app': 'models', 'unique_together': (('tenant_id', 'kind'),), 'pk_attr': 'id', 'table_description': 'An identity provider people of a tenant sign in with, one per kind.'},
        ),
        ops.AlterField(
            model_name='IdentityProvider',
            name='claim',
            field=fields.CharField(default='email', description='The ID token claim or provider field naming the person (email, open_id, userid).', max_length=64),
        ),
        ops.AlterField(
            model_name='IdentityProvider',
            name='client_id',
            field=fields.CharField(description='The app id at the provider (the WeCom corp id, which WeCom takes as the appid).', max_length=255),
        ),
        ops.AlterField(
            model_name='IdentityProvider',
            name='issuer',
            field=fields.CharField(description='The issuer URL, the base of the discovery document and the iss of ID tokens (oidc).', max_length=500),
        ),
        ops.AlterField(
            model_name='IdentityProvider',
            name='kind',
            field=fields.CharField(default='oidc', description='oidc, feishu, dingtalk or wecom.', max_length=16),
        ),
        ops.AlterField(
            model_name='IdentityProvider',
            name='match_field',
            field=fields.CharField(default='email', description='The person field the claim is matched against: email, code or external_id.', max_length=16),
        ),
        ops.AddField(
            model_name='IdentityProvider',
            name='agent_id',
            field=fields.CharField(default='', description='The WeCom app (agentid) people sign in to (blank for the other kinds).', max_length=32),
        ),
        ops.AddField(
            model_name='IdentityProvider',
            name='base_url',
            field=fields.CharField(default='', description='One URL serving all the provider hosts (a gateway or a test server), else blank.', max_length=500),
        ),
        ops.AddField(
            model_name='IdentityProvider',
            name='corp_id',
            field=fields.CharField(default='', description='The company people must belong to: Feishu tenant_key, DingTalk or WeCom corp id.', max_length=128),
        ),
        ops.AddField(
            model_name='IdentityProvider',
            name='domain',
            field=fields.CharField(default='', description='The Feishu base domain: feishu.cn, or larksuite.com for Lark (blank otherwise).', max_length=64),
        ),
        ops.AlterField(
            model_name='OidcLogin',
            name='code_verifier',
            field=fields.TextField(description='The PKCE code verifier, sealed (blank for providers without PKCE).', unique=False),
        ),
        ops.AlterField(
            model_name='OidcLogin',
            name='nonce',
            field=fields.CharField(description='The OpenID Connect nonce (blank for providers without ID tokens).', max_length=128),
        ),
        ops.AddField(
            model_name='OidcLogin',
            name='kind',
            field=fields.CharField(default='oidc', description='The kind of provider the sign-in was sent to, so its callback alone takes it.', max_length=16),
        ),
    ]
