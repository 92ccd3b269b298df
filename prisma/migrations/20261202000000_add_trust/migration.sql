-- Trust: enrolled site keys, revocation, site-admin users, plan approvals, update nonces, a hash-chained
-- append-only audit log.

-- AlterTable
ALTER TABLE "site" ADD COLUMN "agreement_public_key" TEXT,
ADD COLUMN "enrolled_at" TIMESTAMP(3),
ADD COLUMN "revoked_at" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "app_user" ADD COLUMN "site_id" UUID,
ADD COLUMN "disabled_at" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "api_token" ADD COLUMN "last_used_at" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "site_update" ADD COLUMN "nonce" TEXT;

-- AlterTable
ALTER TABLE "audit_event" ADD COLUMN "seq" BIGINT,
ADD COLUMN "source" TEXT,
ADD COLUMN "prev_hash" TEXT,
ADD COLUMN "hash" TEXT;

-- CreateTable
CREATE TABLE "study_approval" (
    "id" UUID NOT NULL,
    "study_id" UUID NOT NULL,
    "site_id" UUID NOT NULL,
    "plan_hash" TEXT NOT NULL,
    "signature" TEXT NOT NULL,
    "approved_at" TIMESTAMP(3) NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "study_approval_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "study_approval_study_id_site_id_plan_hash_key" ON "study_approval"("study_id", "site_id", "plan_hash");

-- CreateIndex
CREATE UNIQUE INDEX "site_update_nonce_key" ON "site_update"("nonce");

-- CreateIndex
CREATE UNIQUE INDEX "audit_event_seq_key" ON "audit_event"("seq");

-- AddForeignKey
ALTER TABLE "app_user" ADD CONSTRAINT "app_user_site_id_fkey" FOREIGN KEY ("site_id") REFERENCES "site"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "study_approval" ADD CONSTRAINT "study_approval_study_id_fkey" FOREIGN KEY ("study_id") REFERENCES "study"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "study_approval" ADD CONSTRAINT "study_approval_site_id_fkey" FOREIGN KEY ("site_id") REFERENCES "site"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- The audit log is append-only: the database itself refuses to rewrite or remove an entry, whoever asks.
-- Rows written before this migration keep a null hash; the chain starts at the first hashed row.
CREATE FUNCTION "audit_event_refuse_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP USING ERRCODE = '42501';
END
$$;

CREATE TRIGGER "audit_event_no_update_delete" BEFORE UPDATE OR DELETE ON "audit_event"
  FOR EACH ROW EXECUTE FUNCTION "audit_event_refuse_change"();

CREATE TRIGGER "audit_event_no_truncate" BEFORE TRUNCATE ON "audit_event"
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_event_refuse_change"();
