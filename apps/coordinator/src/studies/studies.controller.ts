import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import { z } from 'zod';
import {
  ApprovalsReply,
  CheckpointList,
  DeclineList,
  MetricList,
  RoundSummaryList,
  StudyList,
  StudyView,
  parseOrThrow,
} from '@fedseg/protocol';
import { CurrentCaller, Permission } from '../auth/auth.decorators';
import { actorOf, type Caller } from '../auth/caller';
import { ApiReply } from '../common/api-reply.decorator';
import { StudiesService } from './studies.service';
import { metricRow, studyView } from './study-view';

const StudyId = z.uuid();
const MetricsQuery = z.strictObject({
  round: z.coerce.number().int().min(0).optional(),
  split: z.enum(['train', 'val']).optional(),
});
const ModelQuery = z.strictObject({ round: z.coerce.number().int().min(0).optional() });

interface BinaryResponse {
  setHeader(name: string, value: string): void;
  end(body: Buffer): void;
}

/** Thin: parse, call one service method. Each route names its policy action. */
@Controller('studies')
export class StudiesController {
  constructor(private readonly studies: StudiesService) {}

  @Post()
  @Permission('study.create')
  @ApiReply(StudyView, 'Creates a draft study from a StudyConfig')
  async create(@Body() body: unknown, @CurrentCaller() caller: Caller): Promise<StudyView> {
    return studyView(await this.studies.create(body, actorOf(caller)));
  }

  @Get()
  @Permission('study.list')
  @ApiReply(StudyList, 'Lists studies, newest first')
  async list(): Promise<StudyList> {
    return (await this.studies.list()).map(studyView);
  }

  @Get(':id')
  @Permission('study.read')
  @ApiReply(StudyView, 'One study with its config and progress')
  async get(@Param('id') id: string): Promise<StudyView> {
    return studyView(await this.studies.get(parseOrThrow(StudyId, id, 'study id')));
  }

  /** Changes the config of a draft or paused study; a changed plan needs every site's approval again. */
  @Patch(':id')
  @Permission('study.update')
  @ApiReply(StudyView, "Replaces a draft or paused study's config")
  async update(
    @Param('id') id: string,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<StudyView> {
    return studyView(await this.studies.update(parseOrThrow(StudyId, id, 'study id'), body, actorOf(caller)));
  }

  @Post(':id/start')
  @HttpCode(200)
  @Permission('study.start')
  @ApiReply(StudyView, 'Starts or resumes a study')
  async start(@Param('id') id: string, @CurrentCaller() caller: Caller): Promise<StudyView> {
    return studyView(await this.studies.start(parseOrThrow(StudyId, id, 'study id'), actorOf(caller)));
  }

  @Post(':id/pause')
  @HttpCode(200)
  @Permission('study.pause')
  @ApiReply(StudyView, 'Pauses a running study between steps')
  async pause(@Param('id') id: string, @CurrentCaller() caller: Caller): Promise<StudyView> {
    return studyView(await this.studies.pause(parseOrThrow(StudyId, id, 'study id'), actorOf(caller)));
  }

  @Post(':id/stop')
  @HttpCode(200)
  @Permission('study.stop')
  @ApiReply(StudyView, 'Ends a running or paused study for good; its checkpoints stay')
  async stop(@Param('id') id: string, @CurrentCaller() caller: Caller): Promise<StudyView> {
    return studyView(await this.studies.stop(parseOrThrow(StudyId, id, 'study id'), actorOf(caller)));
  }

  @Get(':id/rounds')
  @Permission('study.rounds')
  @ApiReply(RoundSummaryList, 'The round timeline with study-level loss and Dice')
  rounds(@Param('id') id: string): Promise<RoundSummaryList> {
    return this.studies.roundSummaries(parseOrThrow(StudyId, id, 'study id'));
  }

  /** A site-admin sees the study-level figures and its own site's, never another site's. */
  @Get(':id/metrics')
  @Permission('study.metrics')
  @ApiReply(MetricList, 'Metrics per round, study-level and per site')
  async metrics(
    @Param('id') id: string,
    @Query() query: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<MetricList> {
    const q = parseOrThrow(MetricsQuery, query, 'metrics query');
    const rows = await this.studies.metrics(parseOrThrow(StudyId, id, 'study id'), {
      roundIndex: q.round,
      split: q.split,
      onlySiteId: caller.role === 'site_admin' ? (caller.siteId ?? 'none') : undefined,
    });
    return rows.map(metricRow);
  }

  /** Who approved which plan hash, and whether that is the current plan. */
  @Get(':id/approvals')
  @Permission('study.approvals')
  @ApiReply(ApprovalsReply, "Sites' approvals per plan hash")
  approvals(@Param('id') id: string): Promise<ApprovalsReply> {
    return this.studies.approvals(parseOrThrow(StudyId, id, 'study id'));
  }

  /** Tasks sites declined, with their reasons (a privacy floor not met, no approval, …). */
  @Get(':id/declines')
  @Permission('study.declines')
  @ApiReply(DeclineList, 'Tasks sites declined, with their reasons')
  declines(@Param('id') id: string): Promise<DeclineList> {
    return this.studies.declines(parseOrThrow(StudyId, id, 'study id'));
  }

  @Get(':id/checkpoints')
  @Permission('study.model')
  @ApiReply(CheckpointList, 'Global models per round with sha256, size and study-level metrics')
  checkpoints(@Param('id') id: string): Promise<CheckpointList> {
    return this.studies.checkpoints(parseOrThrow(StudyId, id, 'study id'));
  }

  @Get(':id/model')
  @Permission('study.model')
  @ApiReply('binary', 'The encoded global model after a round (latest when absent)')
  async model(@Param('id') id: string, @Query() query: unknown, @Res() res: BinaryResponse) {
    const q = parseOrThrow(ModelQuery, query, 'model query');
    const model = await this.studies.model(parseOrThrow(StudyId, id, 'study id'), q.round);
    res.setHeader('content-type', 'application/octet-stream');
    res.setHeader('x-fedseg-round', String(model.round));
    res.setHeader('x-fedseg-sha256', model.sha256);
    res.end(Buffer.from(model.blob.buffer, model.blob.byteOffset, model.blob.byteLength));
  }
}
