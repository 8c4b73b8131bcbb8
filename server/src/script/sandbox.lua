-- The sandbox of a script VM: the redis.* functions written in Lua, the error handler that
-- locates an error in the user's code, Redis's pcall, and read-only tables. Runs once, when
-- the VM is built, before the globals are locked. Loaded as "@redis_sandbox": the error handler
-- skips this chunk's frames, so positions always point at the user's script.
--
-- P is the private table from Rust: raw functions (sha1hex, log, rand, srand, setresp,
-- set_repl) and, while a script runs, P.d (run one command). Nothing here is reachable from a
-- script except through the functions it returns in P.

local P = ...
local dbg = debug
local type, error, tostring, select, unpack = type, error, tostring, select, unpack
local rawget, next, tonumber = rawget, next, tonumber
local raw_rawset, raw_setmetatable = rawset, setmetatable
local lua_pcall, xpcall, raw_loadstring, concat = pcall, xpcall, loadstring, table.concat
local sfind, ssub, sbyte, floor = string.find, string.sub, string.byte, math.floor
local INTERNAL = '@redis_sandbox'

-- Where the error happened, for the reply's "on @user_script:1.": the first frame that is
-- neither a C function nor this chunk.
local function handler(err)
    local level = 2
    local i = dbg.getinfo(level, 'nSl')
    while i and (i.what == 'C' or i.source == INTERNAL) do
        level = level + 1
        i = dbg.getinfo(level, 'nSl')
    end
    if type(err) == 'userdata' then
        -- Raised by a library function written in Rust: its message, placed like
        -- luaL_error places one (at the calling line).
        local e = P.errmsg(err)
        if type(e) == 'table' then
            err = e
        else
            local where = i and i.currentline and i.currentline > 0 and (i.short_src .. ':' .. i.currentline .. ': ') or ''
            err = where .. tostring(e)
        end
    end
    if type(err) ~= 'table' then
        err = { err = 'ERR ' .. tostring(err) }
    end
    if i then
        err['source'] = i.source
        err['line'] = i.currentline
    end
    return err
end

-- The error handler itself, for the interpreter's run path (a protected call from C with
-- this as its message handler, as Redis runs scripts).
P.handler = handler

-- Run f (no arguments: a library's body at FUNCTION LOAD) under the error handler.
P.run = function(f)
    return xpcall(f, handler)
end

-- "-CODE msg" or "msg" to "CODE msg" (ERR when there is no code), as Redis stores errors.
local function trim(s)
    local a, b = 1, #s
    while a <= b do
        local c = sbyte(s, a)
        if c ~= 13 and c ~= 10 then break end
        a = a + 1
    end
    while b >= a do
        local c = sbyte(s, b)
        if c ~= 13 and c ~= 10 then break end
        b = b - 1
    end
    return ssub(s, a, b)
end

local function error_text(s)
    local code, msg
    if ssub(s, 1, 1) == '-' then
        local sp = sfind(s, ' ', 1, true)
        if sp then
            code, msg = ssub(s, 2, sp - 1), ssub(s, sp + 1)
        else
            code, msg = 'ERR', ssub(s, 2)
        end
    else
        code, msg = 'ERR', s
    end
    return code .. ' ' .. trim(msg)
end
P.error_text = error_text

local function raise(msg)
    error({ err = error_text(msg) })
end

local redis = P.redis

-- redis.call and redis.pcall are C functions (ccall.rs) calling P.d.

redis.sha1hex = function(...)
    if select('#', ...) ~= 1 then raise('wrong number of arguments') end
    return P.sha1hex((...))
end

redis.error_reply = function(...)
    local s = ...
    if select('#', ...) ~= 1 or type(s) ~= 'string' then
        return { err = error_text('wrong number or type of arguments') }
    end
    if ssub(s, 1, 1) ~= '-' then s = '-' .. s end
    return { err = error_text(s) }
end

redis.status_reply = function(...)
    local s = ...
    if select('#', ...) ~= 1 or type(s) ~= 'string' then
        return { err = error_text('wrong number or type of arguments') }
    end
    return { ok = s }
end

local function log(...)
    local n = select('#', ...)
    if n < 2 then raise('redis.log() requires two arguments or more.') end
    local level = ...
    if type(level) ~= 'number' and not (type(level) == 'string' and tonumber(level)) then
        raise('First argument must be a number (log level).')
    end
    level = floor(tonumber(level))
    if level < 0 or level > 3 then raise('Invalid debug level.') end
    P.log(level, ...)
end
redis.log = log

redis.setresp = function(...)
    if not P.d then raise('redis.setresp can only be called inside a script invocation') end
    if select('#', ...) ~= 1 then raise('redis.setresp() requires one argument.') end
    local v = tonumber((...)) or 0
    if v ~= 2 and v ~= 3 then raise('RESP version must be 2 or 3.') end
    P.setresp(v)
end

redis.set_repl = function(...)
    if not P.d then raise('redis.set_repl can only be called inside a script invocation') end
    if select('#', ...) ~= 1 then raise('redis.set_repl() requires two arguments.') end
    local v = floor(tonumber((...)) or 0)
    if v < 0 or v > 3 then
        raise('Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.')
    end
    P.set_repl(v)
end

redis.replicate_commands = function() return true end
redis.breakpoint = function() return false end
redis.debug = function() end
redis.acl_check_cmd = function(...)
    if not P.d then raise('redis.acl_check_cmd can only be called inside a script invocation') end
    if select('#', ...) == 0 then raise('Please specify at least one argument for this redis lib call') end
    if not P.known(...) then raise('Invalid command passed to redis.acl_check_cmd()') end
    return true
end

-- math.random on Redis's rand48 (the same sequence on every platform).
local function checkint(v, n)
    local x = tonumber(v)
    if not x then
        local got = v == nil and 'no value' or type(v)
        -- Level 4: checkint, math.random, its C trampoline, the caller.
        error("bad argument #" .. n .. " to 'random' (number expected, got " .. got .. ")", 4)
    end
    return x >= 0 and floor(x) or -floor(-x)
end

math.random = function(...)
    if not P.d then error('math.random can only be called inside a script invocation', 3) end
    local r = P.rand()
    local n = select('#', ...)
    if n == 0 then return r end
    if n == 1 then
        local u = checkint((...), 1)
        if u < 1 then error("bad argument #1 to 'random' (interval is empty)", 3) end
        return floor(r * u) + 1
    end
    if n == 2 then
        local l, u = ...
        l, u = checkint(l, 1), checkint(u, 2)
        if l > u then error("bad argument #2 to 'random' (interval is empty)", 3) end
        return floor(r * (u - l + 1)) + l
    end
    error('wrong number of arguments', 3)
end

math.randomseed = function(...)
    if not P.d then error('math.randomseed can only be called inside a script invocation', 3) end
    local v = (...)
    if tonumber(v) == nil then
        local got = v == nil and 'no value' or type(v)
        error("bad argument #1 to 'randomseed' (number expected, got " .. got .. ")", 3)
    end
    P.srand(checkint(v, 1))
end

-- Read-only tables: a script sees an empty proxy whose reads go to the real table and whose
-- writes fail; setmetatable and rawset refuse the proxies too.
local protected = raw_setmetatable({}, { __mode = 'k' })

local function readonly_error()
    error('Attempt to modify a readonly table', 2)
end

local function readonly(t, shown_mt)
    local proxy = {}
    raw_setmetatable(proxy, { __index = t, __newindex = readonly_error, __metatable = shown_mt or false })
    protected[proxy] = true
    return proxy
end
P.readonly = readonly
P.protected = protected

P.missing_global = function(_, k)
    error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end

-- The globals table G stays the thread's global table (so loadstring'd code sees it too) but
-- empty: its entries move to a hidden table and G reads through to it.
P.lock_globals = function(G, hidden, shown_index)
    for k, v in next, G do
        if type(v) == 'table' and k ~= '_G' then v = readonly(v) end
        hidden[k] = v
    end
    for k in next, hidden do
        raw_rawset(G, k, nil)
    end
    raw_setmetatable(hidden, { __index = P.missing_global })
    local shown = readonly({ __index = shown_index or readonly(hidden) })
    local mt = { __index = hidden, __newindex = readonly_error, __metatable = shown }
    raw_setmetatable(G, mt)
    protected[G] = true
    hidden._G = G
    return mt
end

-- Raised from C in Redis: no position in the message.
setmetatable = function(t, mt)
    if protected[t] then error('Attempt to modify a readonly table', 0) end
    return raw_setmetatable(t, mt)
end

rawset = function(t, k, v)
    if protected[t] then error('Attempt to modify a readonly table', 0) end
    return raw_rawset(t, k, v)
end

-- Redis's pcall: an error table becomes its message (compatible with older scripts).
local function pack(...)
    return select('#', ...), { ... }
end

pcall = function(...)
    local n, res = pack(lua_pcall(...))
    if not res[1] then
        local e = res[2]
        -- A killed script's error is not caught (Redis keeps raising it on every line).
        local killed = P.killed
        if killed and killed() then error(e, 0) end
        if type(e) == 'userdata' then e = P.errmsg(e) end
        if type(e) == 'table' then
            local m = rawget(e, 'err')
            if type(m) == 'string' or type(m) == 'number' then e = m end
        end
        return false, e
    end
    return unpack(res, 1, n)
end

-- No binary chunks (precompiled code could break out of the sandbox).
local function is_binary(s)
    return type(s) == 'string' and sbyte(s, 1) == 27
end

loadstring = function(s, name)
    if is_binary(s) then return nil, 'binary chunks are not allowed' end
    return raw_loadstring(s, name)
end

load = function(f, name)
    local parts, i = {}, 0
    while true do
        local piece = f()
        if piece == nil or piece == '' then break end
        if type(piece) ~= 'string' then return nil, 'reader function must return a string' end
        i = i + 1
        parts[i] = piece
    end
    local s = concat(parts)
    if is_binary(s) then return nil, 'binary chunks are not allowed' end
    return raw_loadstring(s, name)
end

-- FUNCTION LOAD: what a library's code sees (redis.register_function, redis.log, the
-- versions), and register_function itself (P.reg is set only while a library loads).
P.register_function = function(...)
    local reg = P.reg
    if not reg then raise('redis.register_function can only be called on FUNCTION LOAD command') end
    local e = reg(...)
    if e then raise(e) end
end

P.make_library_api = function()
    local r = { register_function = P.register_function, log = log }
    for _, k in next, { 'LOG_DEBUG', 'LOG_VERBOSE', 'LOG_NOTICE', 'LOG_WARNING', 'REDIS_VERSION', 'REDIS_VERSION_NUM' } do
        r[k] = redis[k]
    end
    raw_setmetatable(r, { __index = P.missing_global })
    local g = { redis = readonly(r) }
    raw_setmetatable(g, { __index = P.missing_global })
    return readonly(g)
end

debug = nil
print = nil
dofile = nil
loadfile = nil
