"""Initial schema: the mirror (one table per record type) and the ledger.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from store.db import UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

TABLES_IN_DEPENDENCY_ORDER = ('accounts', 'contacts', 'leads', 'notes', 'opportunities', 'owners', 'runs', 'tasks', 'watermarks', 'actions', 'findings', 'skips', 'snapshots', 'idempotency')


def upgrade() -> None:
    op.create_table('accounts',
    sa.Column('connection', sa.String(), nullable=False),
    sa.Column('id', sa.String(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('owner_id', sa.String(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.Column('website', sa.String(), nullable=True),
    sa.Column('phone', sa.String(), nullable=True),
    sa.Column('billing_city', sa.String(), nullable=True),
    sa.Column('billing_postcode', sa.String(), nullable=True),
    sa.Column('billing_country', sa.String(), nullable=True),
    sa.Column('account_type', sa.String(), nullable=True),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('connection', 'id', name=op.f('pk_accounts'))
    )
    op.create_index('ix_accounts_owner_id', 'accounts', ['connection', 'owner_id'], unique=False)
    op.create_index('ix_accounts_updated_at', 'accounts', ['connection', 'updated_at'], unique=False)
    op.create_table('contacts',
    sa.Column('connection', sa.String(), nullable=False),
    sa.Column('id', sa.String(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('account_id', sa.String(), nullable=True),
    sa.Column('owner_id', sa.String(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.Column('email', sa.String(), nullable=True),
    sa.Column('phone', sa.String(), nullable=True),
    sa.PrimaryKeyConstraint('connection', 'id', name=op.f('pk_contacts'))
    )
    op.create_index('ix_contacts_account_id', 'contacts', ['connection', 'account_id'], unique=False)
    op.create_index('ix_contacts_updated_at', 'contacts', ['connection', 'updated_at'], unique=False)
    op.create_table('leads',
    sa.Column('connection', sa.String(), nullable=False),
    sa.Column('id', sa.String(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('company', sa.String(), nullable=True),
    sa.Column('owner_id', sa.String(), nullable=True),
    sa.Column('status', sa.String(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.Column('status_changed_at', UTCDateTime(), nullable=True),
    sa.Column('email', sa.String(), nullable=True),
    sa.Column('phone', sa.String(), nullable=True),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('connection', 'id', name=op.f('pk_leads'))
    )
    op.create_index('ix_leads_owner_id', 'leads', ['connection', 'owner_id'], unique=False)
    op.create_index('ix_leads_updated_at', 'leads', ['connection', 'updated_at'], unique=False)
    op.create_table('notes',
    sa.Column('connection', sa.String(), nullable=False),
    sa.Column('id', sa.String(), nullable=False),
    sa.Column('parent_id', sa.String(), nullable=False),
    sa.Column('title', sa.String(), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('connection', 'id', name=op.f('pk_notes'))
    )
    op.create_index('ix_notes_parent_id', 'notes', ['connection', 'parent_id'], unique=False)
    op.create_index('ix_notes_updated_at', 'notes', ['connection', 'updated_at'], unique=False)
    op.create_table('opportunities',
    sa.Column('connection', sa.String(), nullable=False),
    sa.Column('id', sa.String(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('account_id', sa.String(), nullable=True),
    sa.Column('owner_id', sa.String(), nullable=True),
    sa.Column('stage', sa.String(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.Column('stage_changed_at', UTCDateTime(), nullable=True),
    sa.Column('amount', sa.Double(), nullable=True),
    sa.Column('probability', sa.Double(), nullable=True),
    sa.Column('close_date', sa.Date(), nullable=True),
    sa.Column('is_closed', sa.Boolean(), nullable=False),
    sa.Column('is_won', sa.Boolean(), nullable=False),
    sa.Column('pipeline', sa.String(), nullable=True),
    sa.Column('partner_account_id', sa.String(), nullable=True),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('connection', 'id', name=op.f('pk_opportunities'))
    )
    op.create_index('ix_opportunities_account_id', 'opportunities', ['connection', 'account_id'], unique=False)
    op.create_index('ix_opportunities_owner_id', 'opportunities', ['connection', 'owner_id'], unique=False)
    op.create_index('ix_opportunities_stage_changed_at', 'opportunities', ['connection', 'stage_changed_at'], unique=False)
    op.create_index('ix_opportunities_updated_at', 'opportunities', ['connection', 'updated_at'], unique=False)
    op.create_table('owners',
    sa.Column('connection', sa.String(), nullable=False),
    sa.Column('id', sa.String(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('email', sa.String(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('is_queue', sa.Boolean(), nullable=False),
    sa.Column('manager_id', sa.String(), nullable=True),
    sa.Column('time_zone', sa.String(), nullable=True),
    sa.Column('updated_at', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('connection', 'id', name=op.f('pk_owners'))
    )
    op.create_table('runs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('job', sa.String(), nullable=False),
    sa.Column('connection', sa.String(), nullable=False),
    sa.Column('dry_run', sa.Boolean(), nullable=False),
    sa.Column('now', UTCDateTime(), nullable=False),
    sa.Column('started_at', UTCDateTime(), nullable=False),
    sa.Column('finished_at', UTCDateTime(), nullable=True),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_runs'))
    )
    op.create_index('ix_runs_started_at', 'runs', ['started_at'], unique=False)
    op.create_table('tasks',
    sa.Column('connection', sa.String(), nullable=False),
    sa.Column('id', sa.String(), nullable=False),
    sa.Column('subject', sa.String(), nullable=False),
    sa.Column('owner_id', sa.String(), nullable=True),
    sa.Column('status', sa.Enum('open', 'completed', name='taskstatus', native_enum=False, length=16), nullable=False),
    sa.Column('task_type', sa.Enum('call', 'email', 'todo', name='tasktype', native_enum=False, length=16), nullable=False),
    sa.Column('priority', sa.Enum('low', 'normal', 'high', name='taskpriority', native_enum=False, length=16), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('completed_at', UTCDateTime(), nullable=True),
    sa.Column('what_id', sa.String(), nullable=True),
    sa.Column('who_id', sa.String(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('connection', 'id', name=op.f('pk_tasks'))
    )
    op.create_index('ix_tasks_owner_id', 'tasks', ['connection', 'owner_id'], unique=False)
    op.create_index('ix_tasks_status', 'tasks', ['connection', 'status'], unique=False)
    op.create_index('ix_tasks_updated_at', 'tasks', ['connection', 'updated_at'], unique=False)
    op.create_index('ix_tasks_what_id', 'tasks', ['connection', 'what_id'], unique=False)
    op.create_index('ix_tasks_who_id', 'tasks', ['connection', 'who_id'], unique=False)
    op.create_table('watermarks',
    sa.Column('connection', sa.String(), nullable=False),
    sa.Column('object', sa.String(), nullable=False),
    sa.Column('value', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('connection', 'object', name=op.f('pk_watermarks'))
    )
    op.create_table('actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.String(length=36), nullable=False),
    sa.Column('key', sa.String(), nullable=False),
    sa.Column('kind', sa.String(), nullable=False),
    sa.Column('object', sa.String(), nullable=False),
    sa.Column('record_id', sa.String(), nullable=False),
    sa.Column('rule', sa.String(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('result_id', sa.String(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], name=op.f('fk_actions_run_id_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_actions'))
    )
    op.create_index(op.f('ix_actions_key'), 'actions', ['key'], unique=False)
    op.create_index('ix_actions_rule_record_id_status', 'actions', ['rule', 'record_id', 'status'], unique=False)
    op.create_index(op.f('ix_actions_run_id'), 'actions', ['run_id'], unique=False)
    op.create_table('findings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.String(length=36), nullable=False),
    sa.Column('rule', sa.String(), nullable=False),
    sa.Column('object', sa.String(), nullable=False),
    sa.Column('record_id', sa.String(), nullable=False),
    sa.Column('owner_id', sa.String(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], name=op.f('fk_findings_run_id_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_findings'))
    )
    op.create_index(op.f('ix_findings_run_id'), 'findings', ['run_id'], unique=False)
    op.create_table('skips',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.String(length=36), nullable=False),
    sa.Column('rule', sa.String(), nullable=False),
    sa.Column('object', sa.String(), nullable=False),
    sa.Column('record_id', sa.String(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], name=op.f('fk_skips_run_id_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_skips'))
    )
    op.create_index(op.f('ix_skips_run_id'), 'skips', ['run_id'], unique=False)
    op.create_table('snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.String(length=36), nullable=False),
    sa.Column('action_key', sa.String(), nullable=False),
    sa.Column('object', sa.String(), nullable=False),
    sa.Column('record_id', sa.String(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('children', sa.JSON(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], name=op.f('fk_snapshots_run_id_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_snapshots'))
    )
    op.create_index(op.f('ix_snapshots_action_key'), 'snapshots', ['action_key'], unique=False)
    op.create_index(op.f('ix_snapshots_run_id'), 'snapshots', ['run_id'], unique=False)
    op.create_table('idempotency',
    sa.Column('key', sa.String(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('run_id', sa.String(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], name=op.f('fk_idempotency_action_id_actions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_idempotency'))
    )
    op.create_index(op.f('ix_idempotency_action_id'), 'idempotency', ['action_id'], unique=False)


def downgrade() -> None:
    for table in reversed(TABLES_IN_DEPENDENCY_ORDER):
        op.drop_table(table)
