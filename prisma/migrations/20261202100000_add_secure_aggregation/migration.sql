-- Secure aggregation: the key phases of a masked round, their deadlines, and each site's signed phase messages.

-- AlterEnum
ALTER TYPE "round_status" ADD VALUE 'advertising';
ALTER TYPE "round_status" ADD VALUE 'sharing';
ALTER TYPE "round_status" ADD VALUE 'unmasking';

-- AlterTable
ALTER TABLE "round" ADD COLUMN "phase_deadline_at" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "secagg_message" (
    "id" UUID NOT NULL,
    "round_id" UUID NOT NULL,
    "site_id" UUID NOT NULL,
    "phase" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "signature" TEXT NOT NULL,
    "received_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "secagg_message_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "secagg_message_round_id_site_id_phase_key" ON "secagg_message"("round_id", "site_id", "phase");

-- AddForeignKey
ALTER TABLE "secagg_message" ADD CONSTRAINT "secagg_message_round_id_fkey" FOREIGN KEY ("round_id") REFERENCES "round"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "secagg_message" ADD CONSTRAINT "secagg_message_site_id_fkey" FOREIGN KEY ("site_id") REFERENCES "site"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
