/**
 * Request validation for the HTTP plane: TypeBox schemas, compiled once per route.
 *
 * `@fastify/type-provider-typebox` runs TypeBox's interpretive `Value.Convert` over path
 * parameters and query strings on every request, so that `"5"` can satisfy a number
 * schema. Most of our routes take only strings there (a peer ID, a protocol), for which the
 * conversion does nothing, at 10–15 µs a call (two calls per stream opened over HTTP). Such
 * schemas are checked directly; the others keep the conversion.
 */
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox'
import { Compile } from 'typebox/compile'
import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify'
import type { TSchema } from 'typebox'

type SchemaObject = Record<string, unknown> & { type?: unknown, properties?: Record<string, { type?: unknown }> }

/** True for an object schema whose every property is a plain string: nothing to convert. */
export function onlyStringProperties (schema: unknown): boolean {
  const s = schema as SchemaObject | undefined
  if (s?.type !== 'object' || s.properties == null) return false
  return Object.values(s.properties).every(p => p?.type === 'string')
}

/** Checks `value` against `schema` as is, with the same result shape as the library's. */
function checkWithoutConversion (schema: TSchema): (value: unknown) => { value?: unknown, error?: FastifySchemaValidationError[] } {
  const compiled = Compile(schema)
  // TypeBox's errors carry the fields fastify reads (keyword, instancePath, schemaPath, params, message)
  return (value) => compiled.Check(value) ? { value } : { error: compiled.Errors(value) as unknown as FastifySchemaValidationError[] }
}

/** TypeBox validation; a body schema marked `x-optional` also accepts no body at all. */
export const validatorCompiler: FastifySchemaCompiler<TSchema> = (route) => {
  if (route.httpPart !== 'body') {
    return onlyStringProperties(route.schema) ? checkWithoutConversion(route.schema) : TypeBoxValidatorCompiler(route)
  }
  const check = TypeBoxValidatorCompiler(route)
  if ((route.schema as Record<string, unknown>)['x-optional'] !== true) return check
  return (value: unknown) => value === undefined || value === null ? { value: undefined } : check(value)
}
