import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { z } from 'zod';
import { parseOrThrow } from '@fedseg/protocol';
import { StudiesService } from './studies.service';

const StudyId = z.uuid();
const MetricsQuery = z.object({
  round: z.coerce.number().int().min(0).optional(),
  split: z.enum(['train', 'val']).optional(),
});
const ModelQuery = z.object({ round: z.coerce.number().int().min(0).optional() });

interface BinaryResponse {
  setHeader(name: string, value: string): void;
  end(body: Buffer): void;
}

/** Thin: parse, call one service method. */
@Controller('studies')
export class StudiesController {
  constructor(private readonly studies: StudiesService) {}

  @Post()
  create(@Body() body: unknown) {
    return this.studies.create(body);
  }

  @Get()
  list() {
    return this.studies.list();
  }

  @Get(':id')
  get(@Param('id') id: string) {
    return this.studies.get(parseOrThrow(StudyId, id, 'study id'));
  }

  @Post(':id/start')
  @HttpCode(200)
  start(@Param('id') id: string) {
    return this.studies.start(parseOrThrow(StudyId, id, 'study id'));
  }

  @Post(':id/pause')
  @HttpCode(200)
  pause(@Param('id') id: string) {
    return this.studies.pause(parseOrThrow(StudyId, id, 'study id'));
  }

  @Get(':id/rounds')
  rounds(@Param('id') id: string) {
    return this.studies.roundSummaries(parseOrThrow(StudyId, id, 'study id'));
  }

  @Get(':id/metrics')
  metrics(@Param('id') id: string, @Query() query: unknown) {
    const q = parseOrThrow(MetricsQuery, query, 'metrics query');
    return this.studies.metrics(parseOrThrow(StudyId, id, 'study id'), {
      roundIndex: q.round,
      split: q.split,
    });
  }

  @Get(':id/model')
  async model(@Param('id') id: string, @Query() query: unknown, @Res() res: BinaryResponse) {
    const q = parseOrThrow(ModelQuery, query, 'model query');
    const model = await this.studies.model(parseOrThrow(StudyId, id, 'study id'), q.round);
    res.setHeader('content-type', 'application/octet-stream');
    res.setHeader('x-fedseg-round', String(model.round));
    res.setHeader('x-fedseg-sha256', model.sha256);
    res.end(Buffer.from(model.blob.buffer, model.blob.byteOffset, model.blob.byteLength));
  }
}
