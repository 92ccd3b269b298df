-- Issue 18: the federated data fingerprint: each site's aggregate statistics per study, and the plan derived from them.

-- CreateTable
CREATE TABLE "site_fingerprint" (
    "id" UUID NOT NULL,
    "study_id" UUID NOT NULL,
    "site_id" UUID NOT NULL,
    "fingerprint" JSONB NOT NULL,
    "signature" TEXT NOT NULL,
    "received_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "site_fingerprint_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "study_data_plan" (
    "study_id" UUID NOT NULL,
    "combined" JSONB NOT NULL,
    "plan" JSONB NOT NULL,
    "reasons" JSONB NOT NULL,
    "sites" INTEGER NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "study_data_plan_pkey" PRIMARY KEY ("study_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "site_fingerprint_study_id_site_id_key" ON "site_fingerprint"("study_id", "site_id");

-- AddForeignKey
ALTER TABLE "site_fingerprint" ADD CONSTRAINT "site_fingerprint_study_id_fkey" FOREIGN KEY ("study_id") REFERENCES "study"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "site_fingerprint" ADD CONSTRAINT "site_fingerprint_site_id_fkey" FOREIGN KEY ("site_id") REFERENCES "site"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "study_data_plan" ADD CONSTRAINT "study_data_plan_study_id_fkey" FOREIGN KEY ("study_id") REFERENCES "study"("id") ON DELETE CASCADE ON UPDATE CASCADE;
