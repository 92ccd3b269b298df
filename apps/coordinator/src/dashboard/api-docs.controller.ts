import { Controller, Get } from '@nestjs/common';
import { z } from 'zod';
import { ModulesContainer } from '@nestjs/core';
import { Public } from '../auth/auth.decorators';
import { ApiReply } from '../common/api-reply.decorator';
import { openApiDocument, type OpenApiDocument } from './openapi-document';
import { routeTable } from './route-table';

const COORDINATOR_VERSION = '0.1.0';

@Controller('api')
export class ApiDocsController {
  private document: OpenApiDocument | undefined;

  constructor(private readonly modules: ModulesContainer) {}

  /** Public: the OpenAPI 3.1 document, generated from the routes' metadata and @fedseg/protocol's schemas. */
  @Get('docs')
  @Public()
  @ApiReply(z.looseObject({ openapi: z.literal('3.1.0') }), 'This OpenAPI document')
  docs(): OpenApiDocument {
    this.document ??= openApiDocument(routeTable(this.modules), COORDINATOR_VERSION);
    return this.document;
  }
}
