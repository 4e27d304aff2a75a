-- Through: ApprovalChains1765600000000
-- The schema migrations 0001 up to the one above build, for a new database. Written by
-- scripts/squash-migrations.ts from pg_dump --schema-only; do not edit by hand.

CREATE FUNCTION public.audit_events_append_only() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
      BEGIN
        RAISE EXCEPTION 'audit_events is append-only';
      END $$;

CREATE TABLE public.access_request_approvals (
    request_id uuid NOT NULL,
    level integer NOT NULL,
    approver_id uuid NOT NULL,
    note text,
    approved_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT access_request_approvals_level_check CHECK ((level >= 1))
);

CREATE TABLE public.access_requests (
    id uuid NOT NULL,
    tenant_id uuid NOT NULL,
    kind text NOT NULL,
    user_id uuid NOT NULL,
    role_id uuid NOT NULL,
    scope_type text NOT NULL,
    scope_id uuid,
    rule_id uuid,
    reviewer_role_id uuid,
    reason text NOT NULL,
    minutes integer NOT NULL,
    one_time boolean DEFAULT false NOT NULL,
    status text NOT NULL,
    decided_by uuid,
    decided_at timestamp with time zone,
    decision_note text,
    assignment_id uuid,
    grant_ends_at timestamp with time zone,
    consumed_at timestamp with time zone,
    review_outcome text,
    reviewed_by uuid,
    reviewed_at timestamp with time zone,
    review_note text,
    alerted_at timestamp with time zone,
    pending_until timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    approval_levels jsonb DEFAULT '[]'::jsonb NOT NULL,
    approvals_required integer DEFAULT 0 NOT NULL,
    approver_user_ids jsonb DEFAULT '[]'::jsonb NOT NULL,
    CONSTRAINT access_requests_kind_check CHECK ((kind = ANY (ARRAY['break-glass'::text, 'elevation'::text]))),
    CONSTRAINT access_requests_minutes_check CHECK ((minutes > 0)),
    CONSTRAINT access_requests_reason_check CHECK ((length(btrim(reason)) > 0)),
    CONSTRAINT access_requests_review_outcome_check CHECK ((review_outcome = ANY (ARRAY['justified'::text, 'not_justified'::text]))),
    CONSTRAINT access_requests_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'granted'::text, 'rejected'::text, 'expired'::text])))
);

CREATE TABLE public.access_review_campaigns (
    id uuid NOT NULL,
    tenant_id uuid NOT NULL,
    name text NOT NULL,
    scope_type text NOT NULL,
    scope_id uuid,
    deadline timestamp with time zone NOT NULL,
    on_deadline text NOT NULL,
    recurrence_months integer,
    unused_days integer NOT NULL,
    remind_days integer NOT NULL,
    status text DEFAULT 'open'::text NOT NULL,
    created_by text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    closed_at timestamp with time zone,
    next_campaign_id uuid,
    CONSTRAINT access_review_campaigns_on_deadline_check CHECK ((on_deadline = ANY (ARRAY['revoke'::text, 'flag'::text]))),
    CONSTRAINT access_review_campaigns_recurrence_months_check CHECK ((recurrence_months > 0)),
    CONSTRAINT access_review_campaigns_remind_days_check CHECK ((remind_days >= 0)),
    CONSTRAINT access_review_campaigns_scope_type_check CHECK ((scope_type = ANY (ARRAY['tenant'::text, 'location'::text, 'institution'::text]))),
    CONSTRAINT access_review_campaigns_status_check CHECK ((status = ANY (ARRAY['open'::text, 'closed'::text]))),
    CONSTRAINT access_review_campaigns_unused_days_check CHECK ((unused_days > 0))
);

CREATE TABLE public.access_review_items (
    id uuid NOT NULL,
    campaign_id uuid NOT NULL,
    user_id uuid,
    username text NOT NULL,
    kind text NOT NULL,
    subject_id uuid NOT NULL,
    role text NOT NULL,
    scope text NOT NULL,
    origin text NOT NULL,
    team_id uuid,
    last_sign_in_at timestamp with time zone,
    last_used_at timestamp with time zone,
    uses_30_days integer,
    unused boolean NOT NULL,
    decision text,
    decided_by text,
    decided_at timestamp with time zone,
    note text,
    CONSTRAINT access_review_items_decision_check CHECK ((decision = ANY (ARRAY['certified'::text, 'revoked'::text, 'flagged'::text]))),
    CONSTRAINT access_review_items_kind_check CHECK ((kind = ANY (ARRAY['assignment'::text, 'api_key'::text])))
);

CREATE TABLE public.action_tokens (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    tenant_id uuid NOT NULL,
    user_id uuid NOT NULL,
    purpose text NOT NULL,
    token_hash text NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    used_at timestamp with time zone,
    created_by text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT action_tokens_purpose_check CHECK ((purpose = ANY (ARRAY['reset'::text, 'invite'::text])))
);

CREATE TABLE public.api_key_usage (
    key_id uuid NOT NULL,
    day date NOT NULL,
    uses bigint NOT NULL
);

CREATE TABLE public.api_keys (
    id uuid NOT NULL,
    tenant_id uuid NOT NULL,
    service_user_id uuid NOT NULL,
    owner_id uuid,
    name text NOT NULL,
    secret_hash text NOT NULL,
    permissions jsonb NOT NULL,
    rate_limit_per_minute integer NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone,
    replaced_by uuid,
    last_used_at timestamp with time zone,
    created_by text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT api_keys_rate_limit_per_minute_check CHECK ((rate_limit_per_minute > 0))
);

CREATE TABLE public.applications (
    id uuid NOT NULL,
    tenant_id uuid NOT NULL,
    name text NOT NULL,
    client_id text NOT NULL,
    client_secret_sealed text,
    public boolean NOT NULL,
    require_consent boolean DEFAULT false NOT NULL,
    redirect_uris jsonb DEFAULT '[]'::jsonb NOT NULL,
    post_logout_redirect_uris jsonb DEFAULT '[]'::jsonb NOT NULL,
    grant_types jsonb DEFAULT '[]'::jsonb NOT NULL,
    resource text NOT NULL,
    allowed_resources jsonb DEFAULT '[]'::jsonb NOT NULL,
    admin_api boolean DEFAULT false NOT NULL,
    permissions jsonb DEFAULT '[]'::jsonb NOT NULL,
    id_token_signed_response_alg text,
    backchannel_logout_uri text,
    service_user_id uuid,
    builtin boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    saml jsonb,
    previous_secret_sealed text,
    previous_secret_expires_at timestamp with time zone,
    CONSTRAINT applications_previous_secret_expires CHECK (((previous_secret_sealed IS NULL) = (previous_secret_expires_at IS NULL)))
);

CREATE TABLE public.assignments (
    id uuid NOT NULL,
    tenant_id uuid NOT NULL,
    user_id uuid,
    team_id uuid,
    role_id uuid NOT NULL,
    scope_type text NOT NULL,
    scope_id uuid,
    starts_at timestamp with time zone,
    expires_at timestamp with time zone,
    origin text DEFAULT 'manual'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    upstream text,
    time_window jsonb,
    delegated_by uuid,
    source_assignment_id uuid,
    permissions jsonb,
    CONSTRAINT assignments_check CHECK (((user_id IS NULL) <> (team_id IS NULL))),
    CONSTRAINT assignments_check1 CHECK (((scope_type = 'tenant'::text) = (scope_id IS NULL))),
    CONSTRAINT assignments_delegation_check CHECK (((origin = 'delegation'::text) = ((delegated_by IS NOT NULL) AND (source_assignment_id IS NOT NULL)))),
    CONSTRAINT assignments_scope_type_check CHECK ((scope_type = ANY (ARRAY['tenant'::text, 'location'::text, 'institution'::text, 'application'::text])))
);

CREATE TABLE public.audit_events (
    seq bigint NOT NULL,
    id uuid NOT NULL,
    tenant_id uuid,
    at timestamp with time zone NOT NULL,
    actor_type text NOT NULL,
    actor_id text,
    action text NOT NULL,
    target_type text,
    target_id text,
    outcome text NOT NULL,
    ip text,
    user_agent text,
    before jsonb,
    after jsonb,
    details jsonb,
    prev_hash text NOT NULL,
    hash text NOT NULL,
    CONSTRAINT audit_events_outcome_check CHECK ((outcome = ANY (ARRAY['success'::text, 'failure'::text])))
);

CREATE SEQUENCE public.audit_events_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.audit_events_seq_seq OWNED BY public.audit_events.seq;

CREATE TABLE public.audit_heads (
    chain text NOT NULL,
    hash text NOT NULL
);

CREATE TABLE public.break_glass_rules (
    id uuid NOT NULL,
    tenant_id uuid NOT NULL,
    key text NOT NULL,
    role_id uuid NOT NULL,
    scope_type text NOT NULL,
    scope_id uuid,
    eligible_role_ids jsonb DEFAULT '[]'::jsonb NOT NULL,
    eligible_user_ids jsonb DEFAULT '[]'::jsonb NOT NULL,
    minutes integer DEFAULT 60 NOT NULL,
    reviewer_role_id uuid NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    approvals_required integer DEFAULT 0 NOT NULL,
    approver_user_ids jsonb DEFAULT '[]'::jsonb NOT NULL,
    CONSTRAINT break_glass_rules_approvals_required_check CHECK (((approvals_required >= 0) AND (approvals_required <= 2))),
    CONSTRAINT break_glass_rules_minutes_check CHECK ((minutes > 0))
);

CREATE TABLE public.connections (
    id uuid NOT NULL,
    tenant_id uuid NOT NULL,
    key text NOT NULL,
    name text NOT NULL,
    type text NOT NULL,
    preset text NOT NULL,
    settings jsonb NOT NULL,
    secrets_sealed text,
    domains jsonb DEFAULT '[]'::jsonb NOT NULL,
    mappings jsonb DEFAULT '[]'::jsonb NOT NULL,
    enabled boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.derived_roles (
    id uuid NOT NULL,
    tenant_id uuid NOT NULL,
    source_role_id uuid,
    source_permission text,
    target_role_id uuid NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT derived_roles_check CHECK (((source_role_id IS NULL) <> (source_permission IS NULL)))
);

CREATE TABLE public.directory_runs (
    id uuid NOT NULL,
    tenant_id uuid NOT NULL,
    source_id uuid NOT NULL,
    mode text NOT NULL,
    trigger text NOT NULL,
    dry_run boolean DEFAULT false NOT NULL,
    status text NOT NULL,
    started_at timestamp with time zone DEFAULT now() NOT NULL,
    heartbeat_at timestamp with time zone DEFAULT now() NOT NULL,
    finished_at timestamp with time zone,
    progress jsonb DEFAULT '{}'::jsonb NOT NULL,
    summary jsonb,
    error text
);

CREATE TABLE public.directory_sources (
    id uuid NOT NULL,
    tenant_id uuid NOT NULL,
    key text NOT NULL,
    name text NOT NULL,
    preset text NOT NULL,
    settings jsonb NOT NULL,
    secrets_sealed text,
    mappings jsonb DEFAULT '[]'::jsonb NOT NULL,
    enabled boolean DEFAULT true NOT NULL,
    watermark jsonb,
    last_full_sync_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.emergency_settings (
    tenant_id uuid NOT NULL,
    max_minutes integer DEFAULT 240 NOT NULL,
    webhook_url text,
    webhook_secret_sealed text,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    approval_levels jsonb DEFAULT '[]'::jsonb NOT NULL,
    CONSTRAINT emergency_settings_max_minutes_check CHECK (((max_minutes >= 1) AND (max_minutes <= 10080)))
);

CREATE TABLE public.institutions (
    id uuid NOT NULL,
    tenant_id uuid NOT NULL,
    key text NOT NULL,
    name text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.locations (
    id uuid NOT NULL,
    tenant_id uuid NOT NULL,
    key text NOT NULL,
    name text NOT NULL,
    parent_id uuid,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.mfa_factors (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    tenant_id uuid NOT NULL,
    user_id uuid NOT NULL,
    type text NOT NULL,
    name text NOT NULL,
    secret_sealed text,
    credential_id text,
    data jsonb DEFAULT '{}'::jsonb NOT NULL,
    confirmed_at timestamp with time zone,
    last_used_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT mfa_factors_type_check CHECK ((type = ANY (ARRAY['totp'::text, 'webauthn'::text, 'email'::text, 'sms'::text])))
);

CREATE TABLE public.migrations (
    id integer NOT NULL,
    "timestamp" bigint NOT NULL,
    name character varying NOT NULL
);

CREATE SEQUENCE public.migrations_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.migrations_id_seq OWNED BY public.migrations.id;

CREATE TABLE public.network_rules (
    id uuid NOT NULL,
    tenant_id uuid NOT NULL,
    role_id uuid,
    ranges jsonb NOT NULL,
    description text,
    updated_by text NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.oidc_payloads (
    tenant_id uuid NOT NULL,
    model text NOT NULL,
    id text NOT NULL,
    payload jsonb NOT NULL,
    grant_id text,
    uid text,
    user_code text,
    expires_at timestamp with time zone,
    consumed_at timestamp with time zone
);

CREATE TABLE public.password_history (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    tenant_id uuid NOT NULL,
    user_id uuid NOT NULL,
    password_hash text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.permission_overrides (
    id uuid NOT NULL,
    tenant_id uuid NOT NULL,
    user_id uuid NOT NULL,
    application_id uuid NOT NULL,
    permission text NOT NULL,
    effect text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT permission_overrides_effect_check CHECK ((effect = ANY (ARRAY['grant'::text, 'deny'::text])))
);

CREATE TABLE public.recovery_codes (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    tenant_id uuid NOT NULL,
    user_id uuid NOT NULL,
    code_hash text NOT NULL,
    used_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.roles (
    id uuid NOT NULL,
    tenant_id uuid NOT NULL,
    key text NOT NULL,
    name text NOT NULL,
    description text,
    parent_id uuid,
    permissions jsonb DEFAULT '[]'::jsonb NOT NULL,
    removed_permissions jsonb DEFAULT '[]'::jsonb NOT NULL,
    requires_phi boolean DEFAULT false NOT NULL,
    builtin boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    permission_constraints jsonb DEFAULT '{}'::jsonb NOT NULL
);

CREATE TABLE public.sign_in_places (
    user_id uuid NOT NULL,
    kind text NOT NULL,
    value text NOT NULL,
    first_seen_at timestamp with time zone DEFAULT now() NOT NULL,
    last_seen_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT sign_in_places_kind_check CHECK ((kind = ANY (ARRAY['device'::text, 'range'::text])))
);

CREATE TABLE public.signing_keys (
    kid text NOT NULL,
    tenant_id uuid NOT NULL,
    alg text NOT NULL,
    status text NOT NULL,
    private_jwk_sealed text NOT NULL,
    public_jwk jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    retire_at timestamp with time zone,
    certificate text,
    CONSTRAINT signing_keys_status_check CHECK ((status = ANY (ARRAY['next'::text, 'current'::text, 'retired'::text])))
);

CREATE TABLE public.team_members (
    team_id uuid NOT NULL,
    user_id uuid NOT NULL,
    tenant_id uuid NOT NULL,
    upstream text
);

CREATE TABLE public.teams (
    id uuid NOT NULL,
    tenant_id uuid NOT NULL,
    key text NOT NULL,
    name text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.tenants (
    id uuid NOT NULL,
    slug text NOT NULL,
    name text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    policy jsonb DEFAULT '{}'::jsonb NOT NULL,
    user_profile jsonb DEFAULT '{}'::jsonb NOT NULL
);

CREATE TABLE public.user_identities (
    id uuid NOT NULL,
    tenant_id uuid NOT NULL,
    user_id uuid NOT NULL,
    upstream text NOT NULL,
    subject text NOT NULL,
    email text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_login_at timestamp with time zone,
    disabled_at timestamp with time zone,
    profile jsonb,
    sync_digest text
);

CREATE TABLE public.users (
    id uuid NOT NULL,
    tenant_id uuid NOT NULL,
    username text NOT NULL,
    email text,
    phone text,
    display_name text,
    status text NOT NULL,
    kind text DEFAULT 'human'::text NOT NULL,
    phi_access boolean DEFAULT false NOT NULL,
    outside_vendor boolean DEFAULT false NOT NULL,
    source text DEFAULT 'local'::text NOT NULL,
    external_id text,
    password_hash text,
    last_login_at timestamp with time zone,
    expires_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    must_change_password boolean DEFAULT false NOT NULL,
    password_changed_at timestamp with time zone,
    locked_at timestamp with time zone,
    reenabled_at timestamp with time zone,
    ownership text,
    given_name text,
    family_name text,
    user_type text,
    attributes jsonb DEFAULT '{}'::jsonb NOT NULL,
    manager_id uuid,
    CONSTRAINT users_kind_check CHECK ((kind = ANY (ARRAY['human'::text, 'service'::text]))),
    CONSTRAINT users_ownership_check CHECK ((ownership = ANY (ARRAY['owner'::text, 'backup'::text]))),
    CONSTRAINT users_status_check CHECK ((status = ANY (ARRAY['invited'::text, 'active'::text, 'disabled'::text, 'locked'::text, 'expired'::text])))
);

ALTER TABLE ONLY public.audit_events ALTER COLUMN seq SET DEFAULT nextval('public.audit_events_seq_seq'::regclass);

ALTER TABLE ONLY public.migrations ALTER COLUMN id SET DEFAULT nextval('public.migrations_id_seq'::regclass);

ALTER TABLE ONLY public.migrations
    ADD CONSTRAINT "PK_8c82d7f526340ab734260ea46be" PRIMARY KEY (id);

ALTER TABLE ONLY public.access_request_approvals
    ADD CONSTRAINT access_request_approvals_pkey PRIMARY KEY (request_id, level);

ALTER TABLE ONLY public.access_request_approvals
    ADD CONSTRAINT access_request_approvals_request_id_approver_id_key UNIQUE (request_id, approver_id);

ALTER TABLE ONLY public.access_requests
    ADD CONSTRAINT access_requests_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.access_review_campaigns
    ADD CONSTRAINT access_review_campaigns_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.access_review_items
    ADD CONSTRAINT access_review_items_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.action_tokens
    ADD CONSTRAINT action_tokens_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.action_tokens
    ADD CONSTRAINT action_tokens_token_hash_key UNIQUE (token_hash);

ALTER TABLE ONLY public.api_key_usage
    ADD CONSTRAINT api_key_usage_pkey PRIMARY KEY (key_id, day);

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.applications
    ADD CONSTRAINT applications_client_id_key UNIQUE (client_id);

ALTER TABLE ONLY public.applications
    ADD CONSTRAINT applications_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.applications
    ADD CONSTRAINT applications_tenant_id_resource_key UNIQUE (tenant_id, resource);

ALTER TABLE ONLY public.assignments
    ADD CONSTRAINT assignments_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.audit_events
    ADD CONSTRAINT audit_events_id_key UNIQUE (id);

ALTER TABLE ONLY public.audit_events
    ADD CONSTRAINT audit_events_pkey PRIMARY KEY (seq);

ALTER TABLE ONLY public.audit_heads
    ADD CONSTRAINT audit_heads_pkey PRIMARY KEY (chain);

ALTER TABLE ONLY public.break_glass_rules
    ADD CONSTRAINT break_glass_rules_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.break_glass_rules
    ADD CONSTRAINT break_glass_rules_tenant_id_key_key UNIQUE (tenant_id, key);

ALTER TABLE ONLY public.connections
    ADD CONSTRAINT connections_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.derived_roles
    ADD CONSTRAINT derived_roles_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.directory_runs
    ADD CONSTRAINT directory_runs_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.directory_sources
    ADD CONSTRAINT directory_sources_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.emergency_settings
    ADD CONSTRAINT emergency_settings_pkey PRIMARY KEY (tenant_id);

ALTER TABLE ONLY public.institutions
    ADD CONSTRAINT institutions_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.institutions
    ADD CONSTRAINT institutions_tenant_id_key_key UNIQUE (tenant_id, key);

ALTER TABLE ONLY public.locations
    ADD CONSTRAINT locations_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.locations
    ADD CONSTRAINT locations_tenant_id_key_key UNIQUE (tenant_id, key);

ALTER TABLE ONLY public.mfa_factors
    ADD CONSTRAINT mfa_factors_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.network_rules
    ADD CONSTRAINT network_rules_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.oidc_payloads
    ADD CONSTRAINT oidc_payloads_pkey PRIMARY KEY (tenant_id, model, id);

ALTER TABLE ONLY public.password_history
    ADD CONSTRAINT password_history_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.permission_overrides
    ADD CONSTRAINT permission_overrides_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.recovery_codes
    ADD CONSTRAINT recovery_codes_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.recovery_codes
    ADD CONSTRAINT recovery_codes_user_id_code_hash_key UNIQUE (user_id, code_hash);

ALTER TABLE ONLY public.roles
    ADD CONSTRAINT roles_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.roles
    ADD CONSTRAINT roles_tenant_id_key_key UNIQUE (tenant_id, key);

ALTER TABLE ONLY public.sign_in_places
    ADD CONSTRAINT sign_in_places_pkey PRIMARY KEY (user_id, kind, value);

ALTER TABLE ONLY public.signing_keys
    ADD CONSTRAINT signing_keys_pkey PRIMARY KEY (kid);

ALTER TABLE ONLY public.team_members
    ADD CONSTRAINT team_members_pkey PRIMARY KEY (team_id, user_id);

ALTER TABLE ONLY public.teams
    ADD CONSTRAINT teams_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.teams
    ADD CONSTRAINT teams_tenant_id_key_key UNIQUE (tenant_id, key);

ALTER TABLE ONLY public.tenants
    ADD CONSTRAINT tenants_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.tenants
    ADD CONSTRAINT tenants_slug_key UNIQUE (slug);

ALTER TABLE ONLY public.user_identities
    ADD CONSTRAINT user_identities_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);

CREATE INDEX access_requests_assignment ON public.access_requests USING btree (assignment_id) WHERE (assignment_id IS NOT NULL);

CREATE INDEX access_requests_status ON public.access_requests USING btree (tenant_id, status, created_at);

CREATE INDEX access_requests_unreviewed ON public.access_requests USING btree (tenant_id, created_at) WHERE ((kind = 'break-glass'::text) AND (review_outcome IS NULL));

CREATE INDEX access_requests_user ON public.access_requests USING btree (user_id);

CREATE INDEX access_review_campaigns_open ON public.access_review_campaigns USING btree (deadline) WHERE (status = 'open'::text);

CREATE INDEX access_review_campaigns_tenant ON public.access_review_campaigns USING btree (tenant_id, created_at);

CREATE INDEX access_review_items_campaign ON public.access_review_items USING btree (campaign_id, user_id);

CREATE INDEX action_tokens_user ON public.action_tokens USING btree (user_id, purpose);

CREATE INDEX api_keys_account ON public.api_keys USING btree (tenant_id, service_user_id);

CREATE INDEX api_keys_owner ON public.api_keys USING btree (owner_id) WHERE (owner_id IS NOT NULL);

CREATE UNIQUE INDEX applications_saml_entity_id ON public.applications USING btree (tenant_id, ((saml ->> 'entityId'::text))) WHERE (saml IS NOT NULL);

CREATE INDEX assignments_delegated_by ON public.assignments USING btree (delegated_by) WHERE (delegated_by IS NOT NULL);

CREATE INDEX assignments_source ON public.assignments USING btree (source_assignment_id) WHERE (source_assignment_id IS NOT NULL);

CREATE INDEX assignments_team ON public.assignments USING btree (team_id);

CREATE INDEX assignments_tenant_role ON public.assignments USING btree (tenant_id, role_id);

CREATE INDEX assignments_tenant_scope ON public.assignments USING btree (tenant_id, scope_type, scope_id);

CREATE INDEX assignments_upstream ON public.assignments USING btree (user_id, upstream) WHERE (upstream IS NOT NULL);

CREATE INDEX assignments_user ON public.assignments USING btree (user_id);

CREATE INDEX audit_events_tenant ON public.audit_events USING btree (tenant_id, seq);

CREATE INDEX audit_events_tenant_actor ON public.audit_events USING btree (tenant_id, actor_id, seq);

CREATE INDEX audit_events_tenant_at ON public.audit_events USING btree (tenant_id, at);

CREATE INDEX audit_events_tenant_ip ON public.audit_events USING btree (tenant_id, ip, seq);

CREATE INDEX audit_events_tenant_target ON public.audit_events USING btree (tenant_id, target_id, seq);

CREATE UNIQUE INDEX connections_tenant_key ON public.connections USING btree (tenant_id, key);

CREATE INDEX derived_roles_tenant ON public.derived_roles USING btree (tenant_id);

CREATE INDEX directory_runs_source ON public.directory_runs USING btree (source_id, started_at DESC);

CREATE UNIQUE INDEX directory_sources_tenant_key ON public.directory_sources USING btree (tenant_id, key);

CREATE UNIQUE INDEX mfa_factors_credential ON public.mfa_factors USING btree (tenant_id, credential_id) WHERE (credential_id IS NOT NULL);

CREATE INDEX mfa_factors_user ON public.mfa_factors USING btree (user_id);

CREATE UNIQUE INDEX network_rules_role ON public.network_rules USING btree (tenant_id, role_id) WHERE (role_id IS NOT NULL);

CREATE UNIQUE INDEX network_rules_tenant_wide ON public.network_rules USING btree (tenant_id) WHERE (role_id IS NULL);

CREATE INDEX oidc_payloads_account ON public.oidc_payloads USING btree (tenant_id, ((payload ->> 'accountId'::text)));

CREATE INDEX oidc_payloads_expiry ON public.oidc_payloads USING btree (expires_at);

CREATE INDEX oidc_payloads_grant ON public.oidc_payloads USING btree (tenant_id, grant_id);

CREATE INDEX password_history_user ON public.password_history USING btree (user_id, created_at DESC);

CREATE UNIQUE INDEX permission_overrides_one ON public.permission_overrides USING btree (user_id, application_id, permission);

CREATE INDEX signing_keys_tenant ON public.signing_keys USING btree (tenant_id);

CREATE INDEX team_members_user ON public.team_members USING btree (user_id);

CREATE UNIQUE INDEX user_identities_subject ON public.user_identities USING btree (tenant_id, upstream, subject);

CREATE INDEX user_identities_user ON public.user_identities USING btree (user_id);

CREATE UNIQUE INDEX users_one_owner ON public.users USING btree (tenant_id) WHERE (ownership = 'owner'::text);

CREATE UNIQUE INDEX users_tenant_email ON public.users USING btree (tenant_id, lower(email)) WHERE (email IS NOT NULL);

CREATE UNIQUE INDEX users_tenant_username ON public.users USING btree (tenant_id, lower(username));

CREATE TRIGGER audit_events_no_update BEFORE DELETE OR UPDATE ON public.audit_events FOR EACH ROW EXECUTE FUNCTION public.audit_events_append_only();

ALTER TABLE ONLY public.access_request_approvals
    ADD CONSTRAINT access_request_approvals_approver_id_fkey FOREIGN KEY (approver_id) REFERENCES public.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.access_request_approvals
    ADD CONSTRAINT access_request_approvals_request_id_fkey FOREIGN KEY (request_id) REFERENCES public.access_requests(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.access_requests
    ADD CONSTRAINT access_requests_assignment_id_fkey FOREIGN KEY (assignment_id) REFERENCES public.assignments(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.access_requests
    ADD CONSTRAINT access_requests_decided_by_fkey FOREIGN KEY (decided_by) REFERENCES public.users(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.access_requests
    ADD CONSTRAINT access_requests_reviewed_by_fkey FOREIGN KEY (reviewed_by) REFERENCES public.users(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.access_requests
    ADD CONSTRAINT access_requests_reviewer_role_id_fkey FOREIGN KEY (reviewer_role_id) REFERENCES public.roles(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.access_requests
    ADD CONSTRAINT access_requests_role_id_fkey FOREIGN KEY (role_id) REFERENCES public.roles(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.access_requests
    ADD CONSTRAINT access_requests_rule_id_fkey FOREIGN KEY (rule_id) REFERENCES public.break_glass_rules(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.access_requests
    ADD CONSTRAINT access_requests_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.access_requests
    ADD CONSTRAINT access_requests_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.access_review_campaigns
    ADD CONSTRAINT access_review_campaigns_next_campaign_id_fkey FOREIGN KEY (next_campaign_id) REFERENCES public.access_review_campaigns(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.access_review_campaigns
    ADD CONSTRAINT access_review_campaigns_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.access_review_items
    ADD CONSTRAINT access_review_items_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES public.access_review_campaigns(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.access_review_items
    ADD CONSTRAINT access_review_items_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.action_tokens
    ADD CONSTRAINT action_tokens_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.action_tokens
    ADD CONSTRAINT action_tokens_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.api_key_usage
    ADD CONSTRAINT api_key_usage_key_id_fkey FOREIGN KEY (key_id) REFERENCES public.api_keys(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_owner_id_fkey FOREIGN KEY (owner_id) REFERENCES public.users(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_replaced_by_fkey FOREIGN KEY (replaced_by) REFERENCES public.api_keys(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_service_user_id_fkey FOREIGN KEY (service_user_id) REFERENCES public.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.applications
    ADD CONSTRAINT applications_service_user_id_fkey FOREIGN KEY (service_user_id) REFERENCES public.users(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.applications
    ADD CONSTRAINT applications_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.assignments
    ADD CONSTRAINT assignments_delegated_by_fkey FOREIGN KEY (delegated_by) REFERENCES public.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.assignments
    ADD CONSTRAINT assignments_role_id_fkey FOREIGN KEY (role_id) REFERENCES public.roles(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.assignments
    ADD CONSTRAINT assignments_source_assignment_id_fkey FOREIGN KEY (source_assignment_id) REFERENCES public.assignments(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.assignments
    ADD CONSTRAINT assignments_team_id_fkey FOREIGN KEY (team_id) REFERENCES public.teams(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.assignments
    ADD CONSTRAINT assignments_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.assignments
    ADD CONSTRAINT assignments_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.break_glass_rules
    ADD CONSTRAINT break_glass_rules_reviewer_role_id_fkey FOREIGN KEY (reviewer_role_id) REFERENCES public.roles(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.break_glass_rules
    ADD CONSTRAINT break_glass_rules_role_id_fkey FOREIGN KEY (role_id) REFERENCES public.roles(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.break_glass_rules
    ADD CONSTRAINT break_glass_rules_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.connections
    ADD CONSTRAINT connections_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.derived_roles
    ADD CONSTRAINT derived_roles_source_role_id_fkey FOREIGN KEY (source_role_id) REFERENCES public.roles(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.derived_roles
    ADD CONSTRAINT derived_roles_target_role_id_fkey FOREIGN KEY (target_role_id) REFERENCES public.roles(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.derived_roles
    ADD CONSTRAINT derived_roles_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.directory_runs
    ADD CONSTRAINT directory_runs_source_id_fkey FOREIGN KEY (source_id) REFERENCES public.directory_sources(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.directory_runs
    ADD CONSTRAINT directory_runs_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.directory_sources
    ADD CONSTRAINT directory_sources_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.emergency_settings
    ADD CONSTRAINT emergency_settings_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.institutions
    ADD CONSTRAINT institutions_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.locations
    ADD CONSTRAINT locations_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES public.locations(id) ON DELETE RESTRICT;

ALTER TABLE ONLY public.locations
    ADD CONSTRAINT locations_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.mfa_factors
    ADD CONSTRAINT mfa_factors_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.mfa_factors
    ADD CONSTRAINT mfa_factors_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.network_rules
    ADD CONSTRAINT network_rules_role_id_fkey FOREIGN KEY (role_id) REFERENCES public.roles(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.network_rules
    ADD CONSTRAINT network_rules_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.oidc_payloads
    ADD CONSTRAINT oidc_payloads_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.password_history
    ADD CONSTRAINT password_history_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.password_history
    ADD CONSTRAINT password_history_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.permission_overrides
    ADD CONSTRAINT permission_overrides_application_id_fkey FOREIGN KEY (application_id) REFERENCES public.applications(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.permission_overrides
    ADD CONSTRAINT permission_overrides_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.permission_overrides
    ADD CONSTRAINT permission_overrides_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.recovery_codes
    ADD CONSTRAINT recovery_codes_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.recovery_codes
    ADD CONSTRAINT recovery_codes_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.roles
    ADD CONSTRAINT roles_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES public.roles(id) ON DELETE RESTRICT;

ALTER TABLE ONLY public.roles
    ADD CONSTRAINT roles_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.sign_in_places
    ADD CONSTRAINT sign_in_places_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.signing_keys
    ADD CONSTRAINT signing_keys_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.team_members
    ADD CONSTRAINT team_members_team_id_fkey FOREIGN KEY (team_id) REFERENCES public.teams(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.team_members
    ADD CONSTRAINT team_members_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.team_members
    ADD CONSTRAINT team_members_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.teams
    ADD CONSTRAINT teams_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.user_identities
    ADD CONSTRAINT user_identities_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.user_identities
    ADD CONSTRAINT user_identities_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_manager_id_fkey FOREIGN KEY (manager_id) REFERENCES public.users(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

DO $$ BEGIN
  CREATE EXTENSION IF NOT EXISTS pg_trgm;
  EXECUTE 'CREATE INDEX users_search_trgm ON public.users USING gin (lower(((((((((username || chr(10)) || COALESCE(email, ''''::text)) || chr(10)) || COALESCE(display_name, ''''::text)) || chr(10)) || COALESCE(given_name, ''''::text)) || '' ''::text) || COALESCE(family_name, ''''::text))) public.gin_trgm_ops)';
EXCEPTION WHEN OTHERS THEN NULL; END $$;
