/**
 * HTTP request validation (src/api/http/validation.ts): string-only path parameters and
 * query strings are checked without TypeBox's per-request conversion; anything else is still
 * converted ("5" → 5); optional bodies accept no body.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Type } from 'typebox'
import { onlyStringProperties, validatorCompiler } from '../../src/api/http/validation.js'
import type { FastifyRouteSchemaDef } from 'fastify/types/schema.js'
import type { TSchema } from 'typebox'

const compile = (schema: TSchema, httpPart: string): ((value: unknown) => any) =>
  validatorCompiler({ schema, httpPart, method: 'GET', url: '/x' } as FastifyRouteSchemaDef<TSchema>) as (value: unknown) => any

describe('http validation', () => {
  it('tells string-only object schemas from the rest', () => {
    assert.equal(onlyStringProperties(Type.Object({ id: Type.String({ maxLength: 4 }) })), true)
    assert.equal(onlyStringProperties(Type.Object({ protocol: Type.Optional(Type.String()) })), true)
    assert.equal(onlyStringProperties(Type.Object({ id: Type.String(), n: Type.Integer() })), false)
    assert.equal(onlyStringProperties(Type.Object({ on: Type.Boolean() })), false)
    assert.equal(onlyStringProperties(Type.Object({ kind: Type.Union([Type.Literal('a'), Type.Literal('b')]) })), false)
    assert.equal(onlyStringProperties(Type.String()), false)
    assert.equal(onlyStringProperties(undefined), false)
  })

  it('checks string-only parameters as they are, and names what is wrong', () => {
    const check = compile(Type.Object({ id: Type.String({ minLength: 1, maxLength: 4 }) }), 'params')
    assert.deepEqual(check({ id: 'abcd' }), { value: { id: 'abcd' } })
    const bad = check({ id: 'abcde' })
    assert.ok(Array.isArray(bad.error) && bad.error.length > 0)
    assert.equal(bad.error[0].instancePath, '/id')
    assert.equal(typeof bad.error[0].message, 'string')
    assert.ok(Array.isArray(check({}).error), 'a missing required parameter is an error')
  })

  it('still converts query strings with non-string properties', () => {
    const check = compile(Type.Object({ count: Type.Optional(Type.Integer({ minimum: 1 })) }), 'querystring')
    assert.deepEqual(check({ count: '5' }), { value: { count: 5 } })
    assert.ok(Array.isArray(check({ count: 'five' }).error))
  })

  it('accepts no body where the body is optional, and checks one that is there', () => {
    const check = compile({ ...Type.Object({ protocol: Type.String() }), 'x-optional': true } as unknown as TSchema, 'body')
    assert.deepEqual(check(undefined), { value: undefined })
    assert.deepEqual(check(null), { value: undefined })
    assert.deepEqual(check({ protocol: '/x/1' }), { value: { protocol: '/x/1' } })
    assert.ok(check({ protocol: 5 }).error != null)
  })
})
