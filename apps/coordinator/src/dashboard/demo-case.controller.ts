import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { z } from 'zod';
import { DemoCaseView, DemoCaseVolume, parseOrThrow } from '@fedseg/protocol';
import { Permission } from '../auth/auth.decorators';
import { ApiReply } from '../common/api-reply.decorator';
import { DemoCaseService } from './demo-case.service';

const StudyId = z.uuid();
const RoundQuery = z.strictObject({ round: z.coerce.number().int().min(0).optional() });

interface BinaryResponse {
  setHeader(name: string, value: string): void;
  end(body: Buffer): void;
}

/** The viewer's demo case: the coordinator's synthetic phantom and a checkpoint's prediction on it. */
@Controller('studies')
export class DemoCaseController {
  constructor(private readonly demoCase: DemoCaseService) {}

  @Get(':id/demo-case')
  @Permission('study.model')
  @ApiReply(DemoCaseView, "A checkpoint's prediction on the coordinator's synthetic demo case, with Dice")
  view(@Param('id') id: string, @Query() query: unknown): Promise<DemoCaseView> {
    const q = parseOrThrow(RoundQuery, query, 'demo case query');
    return this.demoCase.view(parseOrThrow(StudyId, id, 'study id'), q.round);
  }

  @Get(':id/demo-case/:volume')
  @Permission('study.model')
  @ApiReply('binary', 'The demo case as NIfTI-1: image.nii, label.nii (truth) or prediction.nii')
  async volume(
    @Param('id') id: string,
    @Param('volume') volume: string,
    @Query() query: unknown,
    @Res() res: BinaryResponse,
  ): Promise<void> {
    const q = parseOrThrow(RoundQuery, query, 'demo case query');
    const bytes = await this.demoCase.volume(
      parseOrThrow(StudyId, id, 'study id'),
      parseOrThrow(DemoCaseVolume, volume, 'demo case volume'),
      q.round,
    );
    res.setHeader('content-type', 'application/octet-stream');
    res.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }
}
