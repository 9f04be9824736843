import { z } from 'zod';
const S = z.strictObject({ phone: z.string().regex(/^\+\d+$/, 'must be e164'), n: z.number().int(), e: z.enum(['a','b']), t: z.iso.datetime({offset:true}).transform(s=>new Date(s).toISOString()), u: z.union([z.enum(['x','y']), z.array(z.enum(['x','y'])).min(1)]) , c: z.string().max(3)});
const r = S.safeParse({ phone: '13800138000', n: 'abc', e: 'secret+8613800', t: 'bad', u: 'zz', c:'abcdef', extra: 1 });
console.log(JSON.stringify(r.error!.issues.map(i=>[i.path, i.code, i.message])));
const D = z.discriminatedUnion('type', [z.strictObject({type: z.literal('login'), at: z.string()}), z.strictObject({type: z.literal('balance'), b: z.number()})]);
console.log(JSON.stringify(D.safeParse({type:'nope'}).error!.issues));
console.log(JSON.stringify(D.safeParse({type:'balance'}).error!.issues));
console.log(JSON.stringify(z.toJSONSchema(S, {io:'input'})));
console.log(JSON.stringify(z.toJSONSchema(z.object({a: z.string().default('x')}), {io:'input'})));
