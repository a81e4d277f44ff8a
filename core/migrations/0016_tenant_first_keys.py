from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.constraints import UniqueConstraint


class RemoveUnique(ops.RemoveConstraint):
    """Remove a unique key the tenant does not lead, except on SQLite.

    On SQLite such a key was written into its table's CREATE TABLE, and an inline
    UNIQUE can only go by rebuilding the table. SQLite is one process's embedded
    database, never distributed, and ids are unique across tenants anyway, so there
    the old key stays beside the new tenant-first one (which upserts now target).
    """

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):
        if getattr(state_editor, "DIALECT", "") == "sqlite":
            return
        await super().database_forward(app_label, old_state, new_state, state_editor)


class Migration(migrations.Migration):
    dependencies = [('models', '0015_person_locale')]

    initial = False

    operations = [
        RemoveUnique(
            model_name='DottedLine',
            name=None,
            fields=['person_id', 'manager_id'],
        ),
        ops.AddConstraint(
            model_name='DottedLine',
            constraint=UniqueConstraint(fields=('tenant_id', 'person_id', 'manager_id'), name=None),
        ),
        RemoveUnique(
            model_name='KpiLink',
            name=None,
            fields=['key_result_id', 'kpi_id'],
        ),
        ops.AddConstraint(
            model_name='KpiLink',
            constraint=UniqueConstraint(fields=('tenant_id', 'key_result_id', 'kpi_id'), name=None),
        ),
        ops.RemoveIndex(
            model_name='Measurement',
            name=None,
            fields=['tenant_id', 'kpi_id', 'period_start'],
        ),
        RemoveUnique(
            model_name='Measurement',
            name=None,
            fields=['kpi_id', 'period_start'],
        ),
        ops.AddConstraint(
            model_name='Measurement',
            constraint=UniqueConstraint(fields=('tenant_id', 'kpi_id', 'period_start'), name=None),
        ),
        RemoveUnique(
            model_name='OrgSourceMember',
            name=None,
            fields=['binding_id', 'person_id'],
        ),
        ops.AddConstraint(
            model_name='OrgSourceMember',
            constraint=UniqueConstraint(fields=('tenant_id', 'binding_id', 'person_id'), name=None),
        ),
        ops.RemoveIndex(
            model_name='Score',
            name=None,
            fields=['tenant_id', 'cycle_id', 'kind', 'node_id'],
        ),
        RemoveUnique(
            model_name='Score',
            name=None,
            fields=['cycle_id', 'kind', 'node_id'],
        ),
        ops.AddConstraint(
            model_name='Score',
            constraint=UniqueConstraint(fields=('tenant_id', 'cycle_id', 'kind', 'node_id'), name=None),
        ),
        RemoveUnique(
            model_name='WebhookDelivery',
            name=None,
            fields=['binding_id', 'signature'],
        ),
        ops.AddConstraint(
            model_name='WebhookDelivery',
            constraint=UniqueConstraint(fields=('tenant_id', 'binding_id', 'signature'), name=None),
        ),
    ]
